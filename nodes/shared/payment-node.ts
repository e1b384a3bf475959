// pos-pay and pos-refund are the same node with a different kind of transaction: this is
// both, so the two can never drift apart.

import { PosError } from '../../lib/core/errors';
import { formatMinor } from '../../lib/core/money';
import { capabilityOf } from '../../lib/core/provider';
import { parsePaymentRequest, parseReference } from '../../lib/core/request';
import type { PaymentRequest, ProgressEvent } from '../../lib/core/types';
import { errorStatus } from './error-status';
import { bindFlowNode, timeoutMs, type FlowNodeConfig } from './flow-node';
import type { DoneFunction, Node, NodeMessage, RedApi, SendFunction } from './red';
import { progressStatus, resultStatus, textStatus } from './status';
import { NODE_DEFAULTS, withDefaults } from './defaults';

export interface PaymentNodeConfig extends FlowNodeConfig {
  terminalId?: string;
  currency?: string;
  /** A terminal already taking a payment: `queue` (wait for it, within the timeout) or `fail` at once. */
  busy?: string;
}

/** What the node shows while a transaction of each kind runs. */
const STATUS_OF: Readonly<Record<PaymentRequest['kind'], string>> = {
  sale: 'status.paying',
  refund: 'status.refunding',
  preauth: 'status.preauthorising',
  completion: 'status.completing',
  release: 'status.releasing',
  verify: 'status.verifying',
};

const ACTIONS = ['cancel', 'accept-signature', 'reject-signature'] as const;
type Action = (typeof ACTIONS)[number];

export function paymentNode(RED: RedApi, kind: 'sale' | 'refund') {
  return function (this: Node, config: PaymentNodeConfig): void {
    RED.nodes.createNode(this, config);
    const type = kind === 'sale' ? 'pos-pay' : 'pos-refund';
    // What the flow lacks is what the editor would have given it.
    config = withDefaults(type, config);
    const node = this;
    const binding = bindFlowNode(RED, node, config, kind === 'sale' ? 'pay' : 'refund');
    // Deleted by a deploy while a payment ran: its result reaches no flow through this node, so
    // it is reported as payment_recovered, like a result found by a recovery. (Redeployed, not
    // deleted, the node's messages still reach the flow.)
    let deleted = false;
    node.on('close', (removed: boolean, done: () => void) => {
      if (removed === true) deleted = true;
      done();
    });

    async function act(action: Action, msg: NodeMessage): Promise<void> {
      const reference = parseReference(msg.payload);
      if (action === 'cancel') {
        const connection = binding.require('cancel');
        await connection.provider.cancel(reference);
        binding.show(() => textStatus(RED, 'status.cancelling', { reference }));
      } else {
        const connection = binding.require('signature');
        await connection.provider.answerSignature(reference, action === 'accept-signature');
      }
    }

    async function run(msg: NodeMessage, send: SendFunction): Promise<void> {
      if (msg.action !== undefined) {
        if (!ACTIONS.includes(msg.action as Action)) {
          throw new PosError('bad_input', `msg.action must be one of ${ACTIONS.join(', ')}, got ${JSON.stringify(msg.action)}`);
        }
        return act(msg.action as Action, msg);
      }
      binding.require(kind === 'sale' ? 'pay' : 'refund');
      // An empty setting is passed as undefined: one object, no spreads, per message.
      const request = parsePaymentRequest(kind, msg.payload, {
        terminalId: config.terminalId || undefined,
        currency: config.currency || undefined,
        reference: msg._msgid || undefined,
      });
      // A kind the provider lacks is refused here, before the journal or the provider hears of it.
      const connection = binding.require(capabilityOf(request.kind));
      const timeout = timeoutMs(msg.timeout, config.timeout, NODE_DEFAULTS[type].timeout);
      // Functions: the text is formatted only if the throttled status gets to show it.
      binding.show(() => textStatus(RED, STATUS_OF[request.kind], { amount: formatMinor(request.amount, request.currency), reference: request.originalReference ?? '' }));
      const onProgress = (event: ProgressEvent) => {
        if (deleted) return;
        binding.show(() => progressStatus(RED, event.event, event.message));
        const progress = RED.util.cloneMessage(msg);
        progress.topic = event.event;
        progress.payload = event;
        send([null, progress]);
      };
      const busy = config.busy === 'fail' ? 'fail' : 'queue';
      const { result, duplicate } = await connection.payments.pay(request, { timeoutMs: timeout, onProgress, busy });
      if (deleted) {
        connection.payments.reportUnheard(result);
        return;
      }
      binding.show(() => resultStatus(RED, result));
      msg.payload = result;
      msg.topic = result.outcome;
      if (duplicate) msg.duplicate = true;
      send([msg, null]);
    }

    node.on('input', (msg: NodeMessage, send: SendFunction, done: DoneFunction) => {
      run(msg, send).then(() => done(), (err: Error) => {
        // Every failure replaces the status, bad input too: an older error left there would read as this one's reason.
        binding.show(() => errorStatus(RED, err));
        done(err);
      });
    });
  };
}
