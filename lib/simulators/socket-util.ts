// Small pieces every simulator server needs the same way: listening on a loopback port, reading
// a ws frame as text, and closing sockets and the HTTP server within a bound, so a simulator's
// stop() never hangs.

import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RawData, WebSocket } from 'ws';

/** How long a client gets to answer our close frame before it is terminated. */
const CLOSE_GRACE_MS = 250;
/** stop() gives up waiting for the HTTP server after this long. */
const STOP_LIMIT_MS = 1500;

export function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A close frame first so the client sees a clean 1001; terminate whoever does not finish in time. */
export function closeSocket(ws: WebSocket): Promise<void> {
  if (ws.readyState === ws.CLOSED) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      ws.terminate();
      resolve();
    }, CLOSE_GRACE_MS);
    ws.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    if (ws.readyState === ws.OPEN) ws.close(1001, 'Simulator stopping');
    else ws.terminate();
  });
}

/** Closes the server and every connection it still holds; resolves within STOP_LIMIT_MS. */
export function closeHttpServer(http: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    const limit = setTimeout(resolve, STOP_LIMIT_MS);
    http.close(() => {
      clearTimeout(limit);
      resolve();
    });
    http.closeAllConnections();
  });
}

/** Listens on `port` (0 = a free one) and resolves with the port taken; a listen error rejects. */
export function listenOn(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** A host as it goes into a URL: an IPv6 address in brackets. */
export function urlHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}
