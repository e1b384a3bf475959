// Answers the request a pos-request-in node started: msg.payload is the result; msg.error
// ({ type, message }, or what a Catch node leaves there) answers with an error in the
// provider's own shape. The answer is checked against the provider's schema first, so a flow
// that builds a wrong shape hears about it here (Catch node) instead of the provider failing.

import { PosError } from '../lib/core/errors';
import { InboundError } from '../lib/core/inbound';
import { findRequest, settleRequest } from './shared/pending-requests';
import type { Node, NodeMessage, RedApi } from './shared/red';
import { textStatus } from './shared/status';
import { withDefaults } from './shared/defaults';

const STATUS_EVERY_MS = 250;

interface ResponseConfig {
  name?: string;
}

/** The error the provider should hear, from msg.error, or undefined when the msg carries a result. */
function errorOf(msg: NodeMessage, errorTypes: readonly string[]): InboundError | undefined {
  const e = msg.error as { type?: unknown; message?: unknown } | string | undefined | null;
  if (e === undefined || e === null || (typeof e !== 'object' && typeof e !== 'string')) return undefined;
  const text = typeof e === 'string' ? e : typeof e.message === 'string' ? e.message : 'the flow reported an error';
  const type = typeof e === 'object' && typeof e.type === 'string' && errorTypes.includes(e.type) ? e.type : errorTypes[0] ?? 'error';
  return new InboundError(type, text);
}

export = function (RED: RedApi): void {
  RED.nodes.registerType('pos-response', function (this: Node, config: ResponseConfig) {
    RED.nodes.createNode(this, config);
    // What the flow lacks is what the editor would have given it.
    config = withDefaults('pos-response', config);
    const node = this;
    let answered = 0;
    let lastMethod = '';
    // The status is drawn at most every STATUS_EVERY_MS: formatting it from the catalog on every
    // answer cost about 15 % of the request path under load (bench profile).
    let statusTimer: NodeJS.Timeout | undefined;
    const showAnswered = () => {
      statusTimer = undefined;
      node.status(textStatus(RED, 'status.answered', { method: lastMethod, count: answered }, 'green'));
    };
    node.on('close', (_removed: boolean, done: () => void) => {
      clearTimeout(statusTimer);
      done();
    });

    node.on('input', (msg, _send, done) => {
      const key = msg._posRequest;
      const request = findRequest(key);
      if (!request || typeof key !== 'string') {
        done(new PosError('bad_input', typeof key === 'string'
          ? 'this request was already answered or has timed out (see the request-in node\'s timeout)'
          : 'msg._posRequest is missing: a response node answers messages that come from a request-in node'));
        return;
      }
      const error = errorOf(msg, request.errorTypes);
      if (error) {
        settleRequest(key, { error });
        node.status(textStatus(RED, 'status.answeredError', { method: request.method, type: error.type }, 'yellow'));
        done();
        return;
      }
      const problem = request.checkResult(msg.payload);
      if (problem) {
        // The provider still gets an answer (its catch-all error), never silence.
        settleRequest(key, { error: new InboundError(request.errorTypes[0] ?? 'error', `the EPOS flow's answer did not match the schema: ${problem}`) });
        node.status(textStatus(RED, 'status.invalidAnswer', { method: request.method }, 'red'));
        done(new PosError('bad_input', `the answer to ${request.method} is not valid for ${request.provider}: ${problem}. An error was sent instead.`));
        return;
      }
      settleRequest(key, { result: msg.payload });
      answered += 1;
      lastMethod = request.method;
      statusTimer ??= setTimeout(showAnswered, answered === 1 ? 0 : STATUS_EVERY_MS);
      done();
    });
  });
};
