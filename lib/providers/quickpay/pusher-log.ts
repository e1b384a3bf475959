// pusher-js logs through one static hook for all its instances (Pusher.log) and writes every
// frame it sends there, pusher:subscribe with its auth signature included. The hook is installed
// once and fans the lines out, scrubbed of signatures and tokens and cut short, to the debug
// logger of every running QuickPay connection; console logging stays off.

import Pusher from 'pusher-js';
import { describeFrame, type Redactor } from '../../core/redact';

type Sink = (line: string) => void;

const sinks = new Set<Sink>();
let installed = false;

const SCRUB: Array<[RegExp, string]> = [
  // "auth":"key:signature" in pusher:subscribe, and shared secrets of encrypted channels.
  [/("(?:auth|shared_secret|channel_data)"\s*:\s*")(?:[^"\\]|\\.)*"/g, '$1***"'],
  // A bare key:signature anywhere else. The key starts where a run of key characters starts
  // (a look-behind, not \b, which also holds inside "a-a-a-..." and made the scan quadratic).
  [/(?<![A-Za-z0-9_-])[A-Za-z0-9_-]+:[0-9a-fA-F]{64}\b/g, '***'],
  [/\bBearer\s+[A-Za-z0-9._~+/=-]+/gi, 'Bearer ***'],
  // Anything shaped like a JWT.
  [/\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g, '***'],
];

/** Masks Pusher auth signatures, bearer tokens and JWTs in any text. */
export function scrubPusherText(text: string): string {
  let out = String(text);
  for (const [re, by] of SCRUB) out = out.replace(re, by);
  return out;
}

/** Routes pusher-js's log lines to `sink` until the returned function is called. */
export function attachPusherLog(sink: Sink): () => void {
  if (!installed) {
    installed = true;
    Pusher.logToConsole = false;
    Pusher.log = (message: unknown) => {
      if (sinks.size === 0) return;
      let line: string;
      try {
        line = describeFrame(typeof message === 'string' ? message : JSON.stringify(message) ?? String(message), scrubPusherText, 300);
      } catch {
        return;
      }
      for (const s of sinks) {
        try {
          s(line);
        } catch {
          // A broken logger must not break pusher-js, which called us synchronously.
        }
      }
    };
  }
  sinks.add(sink);
  return () => {
    sinks.delete(sink);
  };
}

/** A redactor that also knows the shapes of Pusher signatures and JWTs. */
export function withPusherScrub(redact: Redactor): Redactor {
  return (text: string) => scrubPusherText(redact(text));
}
