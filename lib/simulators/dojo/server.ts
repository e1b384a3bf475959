// The Dojo simulator's one HTTP server: the EPOS Data WebSocket upgrade at /epos (protocol
// notes 1, 12) and the Dojo REST API beside it — capability registration and POS events here,
// everything else handed to the pay-at-counter routes. REST errors are RFC 7807 problem
// details, as Dojo's are (notes 8, 9).

import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { closeHttpServer, isObject, listenOn } from '../socket-util';
import { checkApiKey, checkUpgrade, header, type AuthOptions } from './auth';
import type { EposHub } from './epos-client';
import type { RegistrationStore } from './registrations';

export const EPOS_PATH = '/epos';
export const POS_EVENT_TYPES = { OrderUpdated: 'orderId', PartyUpdated: 'partyId', ReservationUpdated: 'reservationId' } as const;

export interface PosEvent { at: string; eventType: keyof typeof POS_EVENT_TYPES; event: Record<string, string> }

/** The pay-at-counter routes (lib/simulators/dojo/counter): undefined when the route is not theirs. */
export interface RestRoutes {
  handle(method: string, url: URL, headers: Record<string, string | string[] | undefined>, body: unknown): { status: number; body: unknown } | undefined;
}

export interface DojoServerOptions {
  host: string;
  port: number;
  /** Read per request: the refuseKey fault flips while clients are connected. */
  auth(): AuthOptions;
  hub: EposHub;
  registrations: RegistrationStore;
  posEvents: PosEvent[];
  counter: RestRoutes;
  log(line: string): void;
}

const MAX_BODY_BYTES = 256 * 1024;

const STATUS: Readonly<Record<number, [string, string]>> = {
  400: ['Bad Request', '15.5.1'],
  401: ['Unauthorized', '15.5.2'],
  404: ['Not Found', '15.5.5'],
  405: ['Method Not Allowed', '15.5.6'],
  413: ['Content Too Large', '15.5.14'],
  426: ['Upgrade Required', '15.5.22'],
  500: ['Internal Server Error', '15.6.1'],
  503: ['Service Unavailable', '15.6.4'],
};

class HttpProblem extends Error {
  constructor(readonly status: number, detail: string) {
    super(detail);
  }
}

export function problem(status: number, detail: string): Record<string, unknown> {
  const [title, section] = STATUS[status] ?? ['Error', '15'];
  return { type: `https://tools.ietf.org/html/rfc9110#section-${section}`, title, status, detail, traceId: randomUUID() };
}

export class DojoServer {
  upgradeAttempts = 0;
  private http?: Server;
  private wss?: WebSocketServer;
  private closing = false;

  constructor(private readonly opts: DojoServerOptions) {}

  async listen(): Promise<number> {
    // autoPong off: the hub answers pings itself so the ignorePings fault can say no.
    this.wss = new WebSocketServer({ noServer: true, autoPong: false, clientTracking: false, maxPayload: 1024 * 1024 });
    const http = createServer((req, res) => {
      this.onRequest(req, res).catch((err: Error) => {
        this.opts.log(`REST ${req.method} ${pathOf(req)} failed: ${err.message}`);
        if (!res.headersSent) send(res, 500, problem(500, 'the simulator failed on this request'));
      });
    });
    this.http = http;
    http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head));
    return listenOn(http, this.opts.port, this.opts.host);
  }

  async close(): Promise<void> {
    this.closing = true;
    this.wss?.close();
    this.wss = undefined;
    const http = this.http;
    this.http = undefined;
    if (!http) return;
    await closeHttpServer(http);
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.upgradeAttempts += 1;
    socket.on('error', () => undefined);
    const wss = this.wss;
    if (!wss || this.closing) return this.refuse(socket, 503, 'the simulator is stopping');
    if (pathOf(req) !== EPOS_PATH) return this.refuse(socket, 404, `no WebSocket endpoint at ${pathOf(req)}; the EPOS Data WebSocket is at ${EPOS_PATH}`);
    const verdict = checkUpgrade(req.headers, this.opts.auth());
    if (!verdict.ok) return this.refuse(socket, verdict.status, verdict.detail);
    wss.handleUpgrade(req, socket, head, (ws) => {
      this.opts.hub.accept(ws, {
        ...(verdict.softwareHouseId ? { softwareHouseId: verdict.softwareHouseId } : {}),
        ...(verdict.resellerId ? { resellerId: verdict.resellerId } : {}),
      });
    });
  }

  private refuse(socket: Duplex, status: number, detail: string): void {
    this.opts.log(`EPOS upgrade refused: ${status} ${detail}`);
    const body = JSON.stringify(problem(status, detail));
    socket.once('finish', () => socket.destroy());
    socket.end(
      `HTTP/1.1 ${status} ${STATUS[status]?.[0] ?? 'Error'}\r\n` +
        'Connection: close\r\nContent-Type: application/problem+json\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://simulator.invalid');
    const method = (req.method ?? 'GET').toUpperCase();
    let body: unknown;
    try {
      const auth = checkApiKey(req.headers, this.opts.auth());
      if (!auth.ok) {
        this.opts.log(`REST ${method} ${url.pathname} refused: 401 ${auth.detail}`);
        throw new HttpProblem(401, auth.detail);
      }
      if (!header(req.headers, 'version')) throw new HttpProblem(400, 'the version header is required (e.g. version: 2026-02-27)');
      body = await readJson(req);
    } catch (err) {
      req.resume();
      if (err instanceof HttpProblem) return send(res, err.status, problem(err.status, err.message));
      throw err;
    }
    const own = this.route(method, url, body);
    if (own) return send(res, own.status, own.body);
    const counter = this.opts.counter.handle(method, url, req.headers as IncomingHttpHeaders, body);
    if (counter) return send(res, counter.status, counter.body);
    return send(res, 404, problem(404, `no route ${method} ${url.pathname}`));
  }

  private route(method: string, url: URL, body: unknown): { status: number; body: unknown } | undefined {
    const { registrations } = this.opts;
    const allowed = (methods: string[], run: () => { status: number; body: unknown }) => (
      methods.includes(method) ? run() : { status: 405, body: problem(405, `${url.pathname} allows ${methods.join(', ')}`) }
    );
    switch (url.pathname) {
      case EPOS_PATH:
        return { status: 426, body: problem(426, 'the EPOS Data API is a WebSocket: upgrade at /epos') };
      case '/epos/integrations':
        return allowed(['GET'], () => ({
          status: 200,
          body: { wsIntegrations: registrations.integrations(), restIntegrations: [], dojoManagedIntegrations: [] },
        }));
      case '/epos/integrations/ws':
        return allowed(['GET', 'PUT'], () => {
          if (method === 'GET') return { status: 200, body: registrations.integrations() };
          const why = registrations.put(body);
          if (why) {
            this.opts.log(`capability registration refused: ${why}`);
            return { status: 400, body: problem(400, why) };
          }
          this.opts.log(`capabilities registered: ${registrations.names().join(', ') || '(none)'}`);
          return { status: 200, body: registrations.integrations() };
        });
      case '/epos/integrations/rest':
      case '/epos/integrations/dojo':
        // Only the WebSocket variant is simulated; these lists stay empty.
        return allowed(['GET'], () => ({ status: 200, body: [] }));
      case '/epos/events':
        return allowed(['POST'], () => {
          const why = checkPosEvent(body);
          if (why) return { status: 400, body: problem(400, why) };
          const ev = body as { eventType: keyof typeof POS_EVENT_TYPES; event: Record<string, string> };
          this.opts.posEvents.push({ at: new Date().toISOString(), eventType: ev.eventType, event: { ...ev.event } });
          this.opts.log(`POS event ${ev.eventType} ${Object.values(ev.event).join(', ')}`);
          return { status: 200, body: { eventType: ev.eventType, event: ev.event } };
        });
      default:
        return undefined;
    }
  }
}

/** `{ eventType, event: { <matching id> } }` (notes 7). */
function checkPosEvent(body: unknown): string | undefined {
  if (!isObject(body)) return 'body must be { eventType, event }';
  const type = body.eventType;
  if (typeof type !== 'string' || !(type in POS_EVENT_TYPES)) return `eventType must be one of ${Object.keys(POS_EVENT_TYPES).join(', ')}`;
  const key = POS_EVENT_TYPES[type as keyof typeof POS_EVENT_TYPES];
  if (!isObject(body.event)) return 'event must be an object';
  const id = body.event[key];
  if (typeof id !== 'string' || id === '') return `${type} needs event.${key} (a non-empty string)`;
  return undefined;
}

function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        failed = true;
        reject(new HttpProblem(413, `the body is larger than ${MAX_BODY_BYTES} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', (err) => { if (!failed) { failed = true; reject(err); } });
    req.on('end', () => {
      if (failed) return;
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.trim() === '') return resolve(undefined);
      try {
        resolve(JSON.parse(text));
      } catch {
        reject(new HttpProblem(400, 'the body is not valid JSON'));
      }
    });
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const problemBody = isObject(body) && typeof body.traceId === 'string' && typeof body.title === 'string';
  if (body === undefined) {
    res.writeHead(status);
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': problemBody && status >= 400 ? 'application/problem+json' : 'application/json',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

function pathOf(req: IncomingMessage): string {
  try {
    return new URL(req.url ?? '/', 'http://simulator.invalid').pathname;
  } catch {
    return '/';
  }
}

