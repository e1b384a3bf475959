// Provider events into the flow: msg.topic is the event name, msg.payload the normalised event.

import type { NotificationEvent } from '../lib/core/types';
import { bindFlowNode, type FlowNodeConfig } from './shared/flow-node';
import type { Node, RedApi } from './shared/red';
import { withDefaults } from './shared/defaults';

interface NotificationConfig extends FlowNodeConfig {
  /** Comma-separated event names to pass; empty passes every event. */
  events?: string;
  /** For providers with channels (`setTopics` in their adapter): comma-separated streams, e.g. "rates,payments". */
  streams?: string;
  /** For providers with channels: one more channel, by name. */
  channel?: string;
}

const list = (text: unknown) => String(text ?? '').split(',').map((e) => e.trim()).filter(Boolean);

/** What this node asks the provider for, for providers that subscribe per channel (others ignore it). */
function topicsOf(config: NotificationConfig): string[] {
  const channel = String(config.channel ?? '').trim();
  return [...list(config.streams), ...(channel ? [`channel:${channel}`] : [])];
}

export = function (RED: RedApi): void {
  RED.nodes.registerType('pos-notification-in', function (this: Node, config: NotificationConfig) {
    RED.nodes.createNode(this, config);
    // What the flow lacks is what the editor would have given it.
    config = withDefaults('pos-notification-in', config);
    const node = this;
    const binding = bindFlowNode(RED, node, config, 'notifications');
    const wanted = new Set(list(config.events).map((e) => e.toLowerCase()));
    // Subscribe only where the provider has notifications; otherwise the status already says why.
    let connection;
    try {
      connection = binding.require('notifications');
    } catch {
      connection = undefined;
    }
    const off = connection?.onNotification((event: NotificationEvent) => {
      if (wanted.size > 0 && !wanted.has(event.event.toLowerCase())) return;
      node.send({ topic: event.event, payload: event });
    }, topicsOf(config));
    // Not removed (a partial deploy restarts this node): its channels stay subscribed for its return.
    node.on('close', (removed: boolean, done: () => void) => {
      off?.(removed === true);
      done();
    });
  });
};
