/*
 * node-red-contrib-pos-payments: the editor's Payments sidebar tab.
 *
 * Node-RED serves this file at resources/node-red-contrib-pos-payments/pos-sidebar.js and
 * pos-journal.html loads it (that node file also registers the admin endpoints it reads, so
 * the two come and go together). It shows every deployed provider connection with its state
 * and terminals, and the most recent payments from the journal; a payment that is pending or
 * ended unknown has an "Ask again" button: the runtime asks the provider about it (the look-up
 * a repeated reference does), it never pays again.
 *
 * The data comes from GET pos-payments/sidebar, polled every few seconds only while the tab is
 * shown. The editor's own ajax set-up carries the session token, so with adminAuth on the tab
 * shows what the logged-in user may read. All text is put in with .text(): nothing from the
 * runtime is parsed as HTML.
 */
(function () {
  'use strict';

  if (window.PosPaymentsSidebar) return;
  window.PosPaymentsSidebar = true;

  var TAB = 'pos-payments';
  var POLL_MS = 3000;
  // A provider's name as a person reads it, from the pack's one provider table (the build writes
  // it into the node file, see scripts/provider-parts.js; it runs after this file loads).
  function providerLabel(name) {
    var found = (window.PosPaymentsProviders || []).filter(function (p) { return p.name === name; })[0];
    return (found && (found.shortLabel || found.label)) || name;
  }
  var STATE_COLOUR = {
    connected: 'green', connecting: 'yellow', reconnecting: 'yellow', standby: 'blue', idle: 'grey', closed: 'grey',
    unauthorized: 'red', displaced: 'red', error: 'red'
  };
  var OUTCOME_COLOUR = {
    approved: 'green', declined: 'red', failed: 'red', cancelled: 'grey', voided: 'grey', timed_out: 'yellow', unknown: 'yellow'
  };

  var CSS = [
    '.pos-sidebar { padding: 8px 10px; overflow-y: auto; height: 100%; box-sizing: border-box; font-size: 13px; }',
    '.pos-sidebar h4 { margin: 12px 0 6px; font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--red-ui-secondary-text-color, #555); }',
    '.pos-sidebar h4:first-child { margin-top: 2px; }',
    '.pos-sidebar-empty { color: var(--red-ui-secondary-text-color, #777); font-style: italic; padding: 4px 0; }',
    '.pos-sidebar-problem { color: var(--red-ui-text-color-error, #c00); padding: 4px 0; }',
    '.pos-sidebar-card { border: 1px solid var(--red-ui-secondary-border-color, #ddd); border-radius: 3px; padding: 6px 8px; margin-bottom: 6px; background: var(--red-ui-secondary-background, #fff); }',
    '.pos-sidebar-line { display: flex; align-items: center; gap: 6px; }',
    '.pos-sidebar-grow { flex: 1 1 auto; min-width: 0; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }',
    '.pos-sidebar-name { font-weight: 600; }',
    '.pos-sidebar-meta { color: var(--red-ui-secondary-text-color, #777); font-size: 12px; margin-top: 2px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }',
    '.pos-sidebar-note { color: var(--red-ui-secondary-text-color, #666); font-size: 12px; margin-top: 4px; white-space: normal; }',
    '.pos-sidebar-badge { flex: 0 0 auto; font-size: 11px; padding: 1px 6px; border-radius: 9px; border: 1px solid currentColor; }',
    '.pos-sidebar-green { color: #2e7d32; } .pos-sidebar-red { color: #c62828; } .pos-sidebar-yellow { color: #a66a00; }',
    '.pos-sidebar-blue { color: #1565c0; } .pos-sidebar-grey { color: #777; }',
    '.pos-sidebar-dot { width: 8px; height: 8px; border-radius: 50%; background: currentColor; flex: 0 0 auto; }',
    '.pos-sidebar-terminals { margin-top: 4px; font-size: 11px; line-height: 18px; }',
    '.pos-sidebar-terminal { display: inline-block; margin: 2px 4px 0 0; padding: 0 5px; border-radius: 3px; background: var(--red-ui-secondary-background-hover, #f3f3f3); white-space: nowrap; }',
    '.pos-sidebar-terminal .pos-sidebar-dot { display: inline-block; width: 6px; height: 6px; margin-right: 4px; vertical-align: 1px; }',
    '.pos-sidebar-amount { font-weight: 600; font-variant-numeric: tabular-nums; }',
    '.pos-sidebar-when { color: var(--red-ui-secondary-text-color, #777); font-size: 12px; text-align: right; }',
    '.pos-sidebar-payment.pos-sidebar-attention { border-color: #e0a800; background: rgba(255, 193, 7, 0.12); }',
    '.pos-sidebar-ask { margin-top: 6px; }',
    '.pos-sidebar-updated { color: var(--red-ui-secondary-text-color, #777); font-size: 11px; margin-left: 6px; }'
  ].join('\n');

  function colour(table, key) {
    return 'pos-sidebar-' + (table[key] || 'grey');
  }

  function timeOf(iso) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) return '';
    var today = new Date();
    return d.toDateString() === today.toDateString() ? d.toLocaleTimeString() : d.toLocaleString();
  }

  function badge(text, cls) {
    return $('<span class="pos-sidebar-badge"></span>').addClass(cls).text(text);
  }

  function renderConnection(c) {
    var card = $('<div class="pos-sidebar-card pos-sidebar-connection"></div>').attr('data-id', c.id);
    var line = $('<div class="pos-sidebar-line"></div>').appendTo(card);
    $('<span class="pos-sidebar-dot"></span>').addClass(colour(STATE_COLOUR, c.state)).appendTo(line);
    $('<span class="pos-sidebar-grow pos-sidebar-name"></span>').text(c.name || providerLabel(c.provider)).appendTo(line);
    badge(c.state, colour(STATE_COLOUR, c.state)).addClass('pos-sidebar-state').appendTo(line);
    $('<div class="pos-sidebar-meta"></div>').text(providerLabel(c.provider) + (c.environment ? ' \u00b7 ' + c.environment : '')).appendTo(card);
    if (c.reason) $('<div class="pos-sidebar-note"></div>').text(c.reason).appendTo(card);
    if (c.problem) $('<div class="pos-sidebar-problem"></div>').text(c.problem).appendTo(card);
    if (c.terminals) {
      var t = $('<div class="pos-sidebar-terminals"></div>').appendTo(card);
      if (c.terminals.length === 0) $('<span class="pos-sidebar-empty"></span>').text('no terminals').appendTo(t);
      // Compact chips: the dot's colour is the status, spelt out when it is not "available" and in the tooltip.
      c.terminals.forEach(function (term) {
        var s = $('<span class="pos-sidebar-terminal"></span>').attr('data-id', term.id).attr('data-status', term.status)
          .attr('title', (term.name && term.name !== term.id ? term.name + ' (' + term.id + ')' : term.id) + ': ' + term.status).appendTo(t);
        $('<span class="pos-sidebar-dot"></span>').addClass(colour({ available: 'green', busy: 'yellow', offline: 'red' }, term.status)).appendTo(s);
        $('<span></span>').text(term.status === 'available' ? term.id : term.id + ' ' + term.status).appendTo(s);
      });
    }
    return card;
  }

  function mayAsk() {
    return !(RED.user && typeof RED.user.hasPermission === 'function') || RED.user.hasPermission('pos-payments.write');
  }

  function renderPayment(p) {
    var label = p.state === 'done' ? (p.outcome || 'unknown') : p.running ? 'running' : p.state;
    var card = $('<div class="pos-sidebar-card pos-sidebar-payment"></div>')
      .attr('data-reference', p.reference).attr('data-outcome', label);
    if (p.askable) card.addClass('pos-sidebar-attention');
    var line = $('<div class="pos-sidebar-line"></div>').appendTo(card);
    $('<span class="pos-sidebar-amount"></span>').text(p.amountText).appendTo(line);
    // When and what kind on the first line, so a narrow sidebar cuts the reference, not the time.
    $('<span class="pos-sidebar-grow pos-sidebar-when"></span>').text((p.kind && p.kind !== 'sale' ? p.kind + ' \u00b7 ' : '') + timeOf(p.finishedAt || p.startedAt)).appendTo(line);
    badge(label, p.running ? 'pos-sidebar-blue' : p.state !== 'done' ? 'pos-sidebar-yellow' : colour(OUTCOME_COLOUR, p.outcome)).addClass('pos-sidebar-outcome').appendTo(line);
    var meta = [p.reference];
    if (p.terminalId) meta.push(p.terminalId);
    if (p.card && p.card.last4) meta.push((p.card.scheme ? p.card.scheme + ' ' : '') + '\u2022\u2022' + p.card.last4);
    $('<div class="pos-sidebar-meta"></div>').text(meta.join(' \u00b7 ')).attr('title', meta.join('\n')).appendTo(card);
    if (p.askable) {
      if (p.message) $('<div class="pos-sidebar-note"></div>').text(p.message).appendTo(card);
      var button = $('<button type="button" class="red-ui-button red-ui-button-small pos-sidebar-ask"></button>')
        .append('<i class="fa fa-refresh"></i> ').append($('<span></span>').text('Ask again'))
        .attr('title', 'Ask ' + providerLabel(p.provider) + ' what became of this payment. Nothing is charged again.')
        .on('click', function () { askAgain(p, $(this)); })
        .appendTo(card);
      // A read-only editor user sees the payment but may not ask (the runtime refuses it too).
      if (!mayAsk()) button.prop('disabled', true).attr('title', 'Asking a provider again needs the pos-payments.write permission.');
    }
    return card;
  }

  var content;
  var updated;
  var loading = false;

  function render(data) {
    var body = content.find('.pos-sidebar').empty();
    $('<h4></h4>').text('Connections').appendTo(body);
    if (!data.connections.length) $('<div class="pos-sidebar-empty"></div>').text('No payment provider connection is deployed.').appendTo(body);
    data.connections.forEach(function (c) { renderConnection(c).appendTo(body); });
    $('<h4></h4>').text('Recent payments').appendTo(body);
    if (!data.payments.length) $('<div class="pos-sidebar-empty"></div>').text('No payments yet.').appendTo(body);
    data.payments.forEach(function (p) { renderPayment(p).appendTo(body); });
    updated.text('updated ' + new Date().toLocaleTimeString());
  }

  function refresh() {
    if (loading) return;
    loading = true;
    $.ajax({ url: 'pos-payments/sidebar', dataType: 'json', cache: false })
      .done(render)
      .fail(function (xhr) {
        var body = content.find('.pos-sidebar').empty();
        $('<div class="pos-sidebar-problem"></div>').text('Could not load the payments (' + (xhr.status || 'no answer') + ')' +
          (xhr.status === 401 ? ': this user may not read them.' : '.')).appendTo(body);
      })
      .always(function () { loading = false; });
  }

  function askAgain(p, button) {
    if (button.prop('disabled')) return;
    button.prop('disabled', true);
    $.ajax({
      url: 'pos-payments/sidebar/ask-again', type: 'POST', contentType: 'application/json', dataType: 'json',
      data: JSON.stringify({ connection: p.connection, reference: p.reference })
    }).done(function (answer) {
      var good = answer.status === 'answered' || answer.status === 'final';
      RED.notify(p.reference + ': ' + answer.message, { type: good ? 'success' : 'warning', timeout: 6000 });
    }).fail(function (xhr) {
      var why = xhr.responseJSON && xhr.responseJSON.error ? xhr.responseJSON.error : 'the request failed (' + (xhr.status || 'no answer') + ')';
      RED.notify(p.reference + ': ' + why, { type: 'error', timeout: 8000 });
    }).always(function () {
      button.prop('disabled', false);
      refresh();
    });
  }

  function shown() {
    return !!content && content.is(':visible') && document.visibilityState !== 'hidden';
  }

  function init() {
    $('<style></style>').text(CSS).appendTo('head');
    content = $('<div style="position:relative;height:100%"><div class="pos-sidebar"></div></div>');
    var toolbar = $('<div></div>');
    $('<button type="button" class="red-ui-sidebar-header-button pos-sidebar-refresh" title="Refresh"><i class="fa fa-refresh"></i></button>')
      .on('click', refresh).appendTo(toolbar);
    updated = $('<span class="pos-sidebar-updated"></span>').appendTo(toolbar);
    RED.sidebar.addTab({
      id: TAB,
      label: 'payments',
      name: 'Payments',
      iconClass: 'fa fa-credit-card',
      content: content,
      toolbar: toolbar,
      enableOnEdit: true,
      action: 'pos-payments:show-payments-tab',
      onchange: refresh
    });
    RED.actions.add('pos-payments:show-payments-tab', function () { RED.sidebar.show(TAB); });
    // Bounded work: one request at a time, and only while the tab is on screen.
    setInterval(function () { if (shown()) refresh(); }, POLL_MS);
  }

  $(init);
})();
