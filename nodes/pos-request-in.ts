// An inbound request (an EPoS data API's methods, pay at table) into the flow. Like
// `http in`: the msg carries a key that a pos-response node answers with; no answer within the
// timeout is answered with the provider's catch-all error, so the provider is never left
// waiting. A message that expects no answer (a terminal reporting payments) comes without
// msg.requestId and needs no response node.

import { PosError, isPosError } from '../lib/core/errors';
import type { InboundRequest } from '../lib/core/inbound';
import { bindFlowNode, timeoutMs, type FlowNodeConfig } from './shared/flow-node';
import { abandonRequests, openRequest } from './shared/pending-requests';
import type { Node, RedApi } from './shared/red';
import { textStatus } from './shared/status';
import { linkStatus } from './shared/link-status';
import { NODE_DEFAULTS, withDefaults } from './shared/defaults';

interface RequestInConfig extends FlowNodeConfig {
  /** One method as the provider spells it (SearchOrdersV1), or `*` for every method no other node takes. */
  method?: string;
}

const DEFAULT_TIMEOUT_S = NODE_DEFAULTS['pos-request-in'].timeout;

export = function (RED: RedApi): void {
  RED.nodes.registerType('pos-request-in', function (this: Node, config: RequestInConfig) {
    RED.nodes.createNode(this, config);
    // What the flow lacks is what the editor would have given it.
    config = withDefaults('pos-request-in', config);
    const node = this;
    const binding = bindFlowNode(RED, node, config, 'requests', {
      // Pay at table switched off: say so, and connect nothing.
      check: (c) => (c.requests?.unavailable ? new PosError('capability_missing', c.requests.unavailable) : undefined),
      ownStatus: (c) => c.requests?.link !== undefined,
    });
    const method = String(config.method ?? '').trim();
    let limitMs = DEFAULT_TIMEOUT_S * 1000;
    let leave: ((removed?: boolean) => void) | undefined;
    try {
      limitMs = timeoutMs(undefined, config.timeout, DEFAULT_TIMEOUT_S);
      const router = binding.require('requests').requests;
      if (!router) throw new Error(`${binding.provider} does not send requests to flows`);
      if (!method) throw new Error('choose the method this node answers');
      const added = router.add({ id: node.id, method, handle: (request) => forward(request) });
      const link = router.link;
      const offLink = link?.onStatus((status) => node.status(linkStatus(RED, link.label, status)));
      if (link) node.status(linkStatus(RED, link.label, link.status));
      leave = () => {
        offLink?.();
        added();
      };
    } catch (err) {
      // The node cannot serve anything; say why under it and in the log, once.
      const reason = (err as Error).message;
      node.error(reason);
      node.status(textStatus(RED, 'status.failed', { reason }, 'red'));
    }

    function forward(request: InboundRequest): Promise<unknown> {
      const { key, answer } = openRequest(request, node.id, limitMs);
      const answerWanted = request.expectsAnswer !== false;
      // Built in one go, without a spread of a throwaway object (the request path's allocations).
      const msg: Record<string, unknown> = answerWanted
        ? { topic: request.method, method: request.method, requestId: request.id, provider: request.provider, payload: request.params, _posRequest: key }
        : { topic: request.method, method: request.method, provider: request.provider, payload: request.params, _posRequest: key };
      node.send(msg);
      answer.catch((err: Error) => {
        if (answerWanted && isPosError(err) && err.code === 'timeout') node.warn(`${err.message}; the provider was sent an error`);
      });
      return answer;
    }

    // Not removed (a partial deploy restarts this node): its method stays registered for its
    // return, and the requests already in the flow stay open for the response node, which may
    // well answer them after the restart (each still ends at its own timeout). Removed: nothing
    // will answer them, so the provider hears so at once.
    node.on('close', (removed: boolean, done: () => void) => {
      leave?.(removed === true);
      if (removed === true) abandonRequests(node.id, 'the request-in node was deleted before the flow answered');
      done();
    });
  });
};
