// Runs an end-of-day, banking, X or Z balance report on one terminal and sends what it printed.

import { PosError } from '../lib/core/errors';
import { reportRequestFrom, type ReportResult } from '../lib/core/report';
import { errorStatus } from './shared/error-status';
import { MAX_TEXT } from './shared/status';
import { bindFlowNode, timeoutMs, type FlowNodeConfig } from './shared/flow-node';
import type { DoneFunction, Node, NodeMessage, NodeStatus, RedApi, SendFunction } from './shared/red';
import { whenConnected } from '../lib/core/when-connected';
import { NODE_DEFAULTS, withDefaults } from './shared/defaults';

/** A report prints on paper and may ask the bank for totals: it takes longer than a terminal list. */
const DEFAULT_TIMEOUT_S = NODE_DEFAULTS['pos-report'].timeout;

interface ReportNodeConfig extends FlowNodeConfig {
  /** The provider's wire name for the report request where it is undocumented (see ReportRequest.method). */
  method?: string;
}

export = function (RED: RedApi): void {
  RED.nodes.registerType('pos-report', function (this: Node, config: ReportNodeConfig) {
    RED.nodes.createNode(this, config);
    // What the flow lacks is what the editor would have given it.
    config = withDefaults('pos-report', config);
    const node = this;
    const binding = bindFlowNode(RED, node, config, 'reports');
    const status = (key: string, fill: NodeStatus['fill'], shape: NodeStatus['shape'], subs?: Record<string, unknown>): NodeStatus => {
      const text = RED._(`pos-report.status.${key}`, subs);
      return { fill, shape, text: text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT - 1)}…` : text };
    };

    node.on('input', (msg: NodeMessage, send: SendFunction, done: DoneFunction) => {
      Promise.resolve()
        .then(async () => {
          // Input first: bad input is refused before anything else is looked at, and nothing is sent.
          const request = reportRequestFrom(msg.payload);
          const limit = timeoutMs(msg.timeout, config.timeout, DEFAULT_TIMEOUT_S);
          const provider = binding.require('reports').provider;
          if (!provider.runReport) throw new PosError('capability_missing', `${binding.provider} does not support reports in this pack`);
          const deadline = Date.now() + limit;
          await whenConnected(provider, { limitMs: limit, nothingSent: 'no report was started' });
          const typeLabel = RED._(`pos-report.type.${request.type}`);
          binding.show(status('running', 'blue', 'ring', { type: typeLabel, terminal: request.terminalId }));
          return provider.runReport(request, {
            deadline,
            method: typeof config.method === 'string' ? config.method : '',
            onProgress: (p) => binding.show(status('progress', 'blue', 'dot', { type: typeLabel, step: RED._(`pos-report.progress.${p.event}`, { defaultValue: p.message }) })),
          });
        })
        .then((report: ReportResult) => {
          const typeLabel = RED._(`pos-report.type.${report.type}`);
          binding.show(report.result === 'complete'
            ? status('complete', 'green', 'dot', { type: typeLabel, count: report.lines.length })
            : status('timedOut', 'yellow', 'dot', { type: typeLabel }));
          msg.payload = report;
          send(msg);
          done();
        }, (err: Error) => {
          binding.show(errorStatus(RED, err));
          done(err);
        });
    });
  });
};
