/*
 * node-red-contrib-pos-payments: editor-side helper shared by every node of the pack.
 *
 * Node-RED serves this file at resources/node-red-contrib-pos-payments/pos-editor.js; each
 * node's .html loads it with a <script src>. Every node file loads it, so it must be safe to
 * run more than once: the first copy wins.
 *
 * It holds the ONE table of providers the editor knows and what each can do. Adding a provider
 * means one entry here, plus its config field row and default in each flow node's .html
 * (Node-RED builds the config-node selects from the static template before any editor script
 * could add rows, so those rows stay literal).
 */
(function () {
  'use strict';

  if (window.PosPayments) return;

  /** What each provider can do in this pack; the runtime checks the same capabilities. */
  var providers = [
    {
      name: 'paymentsense',
      label: 'Paymentsense Connect',
      configType: 'pos-paymentsense',
      capabilities: {
        pay: true, refund: true, cancel: true, signature: true,
        terminals: true, notifications: true, requests: true,
        preauth: true, completion: true, release: false, verify: true, reports: true
      },
      lacks: {
        release: 'Connect documents no way to give a pre-auth back; it lapses at the card issuer'
      },
      // Pay at table: the terminals' messages a request-in node may answer (the connection's
      // "Pay at table" box must be ticked). A unit test keeps this list equal to the runtime's.
      requestMethods: [
        'tableListRequest', 'tableLockRequest', 'posReceiptRequest', 'finalPOSReceiptRequest',
        'transactionResponse', 'tableUnlock'
      ]
    },
    {
      name: 'dojo',
      label: 'Dojo',
      configType: 'pos-dojo',
      capabilities: {
        pay: true, refund: true, cancel: true, signature: true,
        terminals: true, notifications: true, requests: true,
        preauth: true, completion: true, release: true, verify: false, reports: false
      },
      lacks: {
        verify: 'Dojo documents no zero-amount card check',
        reports: 'Dojo documents no end-of-day or X/Z reports an EPoS can run on a terminal'
      },
      // The EPOS Data methods a request-in node may answer (HandleEventV1 goes to notification
      // nodes instead). A unit test keeps this list equal to the one derived from Dojo's AsyncAPI.
      requestMethods: [
        'SearchOrdersV1', 'GetOrderByIdV1', 'CreateOrderLockV1', 'ExtendOrderLockV1', 'DeleteOrderLockV1',
        'RecordOrderPaymentByIdV1', 'GetOrderBillByIdV1', 'CreateOrderV1', 'CancelOrderByIdV1',
        'ListAreasV1', 'SearchTablesV1',
        'SearchPartiesV1', 'GetPartyByIdV1', 'CreatePartyV1', 'UpdatePartyV1', 'DeletePartyByIdV1',
        'SearchReservationsV1', 'GetReservationByIdV1', 'CreateReservationV1', 'UpdateReservationV1', 'DeleteReservationByIdV1'
      ]
    },
    {
      name: 'modulus',
      label: 'Modulus Labs Terminal Gateway',
      configType: 'pos-modulus',
      capabilities: {
        pay: true, refund: false, cancel: false, signature: false,
        terminals: true, notifications: true, requests: false,
        preauth: false, completion: false, release: false, verify: false, reports: false
      },
      // Shown in a dialog that does not offer the provider, so nobody hunts for it.
      lacks: {
        refund: 'the Terminal Gateway documents no refund or void; refund in the Modulus portal',
        cancel: 'the Terminal Gateway documents no cancel action',
        preauth: 'the Terminal Gateway documents sales only',
        requests: 'the gateway sends events only; it asks the EPoS nothing',
        reports: 'the Terminal Gateway prints no terminal reports (its transaction reporting is a separate REST API)'
      }
    },
    {
      name: 'sensepass',
      label: 'SensePass',
      configType: 'pos-sensepass',
      capabilities: {
        pay: true, refund: true, cancel: true, signature: false,
        terminals: false, notifications: true, requests: false,
        preauth: false, completion: false, release: false, verify: false, reports: false
      },
      lacks: {
        preauth: 'SensePass documents sales and refunds only',
        terminals: 'SensePass pays on the paired device; it has no terminal list',
        requests: 'SensePass sends events only; it asks the EPoS nothing',
        reports: 'SensePass has no terminal to print a report on'
      }
    },
    {
      name: 'quickpay',
      label: 'QuickPay',
      configType: 'pos-quickpay',
      capabilities: {
        pay: false, refund: false, cancel: false, signature: false,
        terminals: false, notifications: true, requests: false,
        preauth: false, completion: false, release: false, verify: false, reports: false
      },
      lacks: {
        pay: 'QuickPay\'s stream only reports payments; it cannot take one',
        refund: 'QuickPay\'s stream only reports payments; it cannot refund one',
        terminals: 'QuickPay\'s stream has no terminals',
        requests: 'QuickPay\'s stream sends events only',
        reports: 'QuickPay\'s stream has no terminals'
      }
    }
  ];

  function provider(name) {
    for (var i = 0; i < providers.length; i++) {
      if (providers[i].name === name) return providers[i];
    }
    return undefined;
  }

  function supports(name, capability) {
    var p = provider(name);
    return !!(p && (!capability || p.capabilities[capability]));
  }

  function providersWith(capability) {
    return providers.filter(function (p) { return !capability || !!p.capabilities[capability]; });
  }

  /** The form row that holds a provider's config-node field (marked data-pos-provider, or found by id). */
  function configRows(name) {
    var marked = $('.form-row[data-pos-provider="' + name + '"]');
    return marked.length ? marked : $('#node-input-' + name).closest('.form-row');
  }

  function translate(node, key, fallback) {
    if (node && typeof node._ === 'function') {
      var full = node.type + '.' + key;
      var text = node._(full);
      if (text && text !== full) return text;
    }
    return fallback;
  }

  /**
   * For a flow node's oneditprepare: fill the `provider` select with the providers that have
   * `capability`, and show only the selected provider's config-node row.
   * A provider saved on the node that cannot do this (or that this editor does not know) is
   * kept in the list, marked, so that opening the dialog never silently changes the node.
   */
  function prepareProviderField(node, capability) {
    var select = $('#node-input-provider');
    if (!select.length) return [];
    var offered = providersWith(capability);
    var current = (node && node.provider) || select.val() || '';

    select.empty();
    offered.forEach(function (p) {
      $('<option></option>').val(p.name).text(p.label).appendTo(select);
    });
    if (current && !supports(current, capability)) {
      var known = provider(current);
      var note = translate(node, 'label.unsupportedProvider', 'cannot do this');
      $('<option></option>').val(current).text((known ? known.label : current) + ' (' + note + ')').appendTo(select);
    }
    if (!current && offered.length) current = offered[0].name;
    select.val(current);

    function showSelected() {
      var selected = select.val();
      var rows = $('.form-row[data-pos-provider]');
      rows.hide();
      providers.forEach(function (p) { configRows(p.name).toggle(p.name === selected); });
      // Re-check the shown field so the red "required" mark follows the selection.
      $('#node-input-' + selected).trigger('change');
    }

    select.off('change.pos-payments').on('change.pos-payments', showSelected);
    showSelected();
    explainMissing(node, capability, select);
    return offered;
  }

  /** Under the provider select: which providers are not offered for this node, and why. */
  function explainMissing(node, capability, select) {
    var row = select.closest('.form-row');
    row.siblings('.pos-not-offered').remove();
    if (!capability) return;
    var missing = providers.filter(function (p) { return !p.capabilities[capability]; });
    if (!missing.length) return;
    var tip = $('<div class="form-tips pos-not-offered"></div>');
    tip.append($('<span></span>').text(translate(node, 'label.notOffered', 'Not offered here:') + ' '));
    missing.forEach(function (p, i) {
      var why = p.lacks && p.lacks[capability];
      tip.append($('<b></b>').text(p.label));
      if (why) tip.append($('<span></span>').text(' (' + why + ')'));
      tip.append(document.createTextNode(i < missing.length - 1 ? '; ' : '.'));
    });
    tip.insertAfter(row);
  }

  /** msg.payload.kind values of a pay node beyond sale, as capabilities of the same names. */
  var KINDS = ['preauth', 'completion', 'release', 'verify'];

  /**
   * For the pay node: under the provider select, which transaction kinds the selected provider
   * offers and, for the others, why not. Follows the select as it changes.
   */
  function explainKinds(node) {
    var select = $('#node-input-provider');
    if (!select.length) return;
    function refresh() {
      var row = select.closest('.form-row');
      row.siblings('.pos-kinds').remove();
      var p = provider(select.val());
      if (!p || !p.capabilities.pay) return;
      var offered = ['sale'].concat(KINDS.filter(function (k) { return p.capabilities[k]; }));
      var tip = $('<div class="form-tips pos-kinds"></div>');
      tip.append($('<span></span>').text(translate(node, 'label.kindsOffered', 'msg.payload.kind offered by this provider:') + ' '));
      tip.append($('<code></code>').text(offered.join(', ')));
      KINDS.filter(function (k) { return !p.capabilities[k]; }).forEach(function (k) {
        var why = (p.lacks && (p.lacks[k] || (k !== 'preauth' && !p.capabilities.preauth && p.lacks.preauth))) || '';
        tip.append(document.createElement('br'));
        tip.append($('<span></span>').text(translate(node, 'label.kindNotOffered', 'not offered:') + ' '));
        tip.append($('<code></code>').text(k));
        if (why) tip.append($('<span></span>').text(' (' + why + ')'));
      });
      tip.insertAfter(row);
    }
    select.off('change.pos-kinds').on('change.pos-kinds', refresh);
    refresh();
  }

  /**
   * A flow node's config-node field is required only while its provider is the selected one.
   * Used as `validate: PosPayments.configFor('paymentsense')` in every flow node.
   */
  function configFor(provider) {
    return function (v) {
      if ((this.provider || 'paymentsense') !== provider) return true;
      if (!v || v === '_ADD_') return false;
      var config = RED.nodes.node(v);
      return !!config && (config.valid == null || config.valid);
    };
  }

  /** True while this config node's own edit dialog is open: its inputs then hold the live values. */
  function editing(node) {
    try {
      var stack = RED.editor.getEditStack();
      return stack.length > 0 && stack[stack.length - 1] === node;
    } catch (e) {
      return false;
    }
  }

  /** The environment being edited, so the fields it requires turn red as soon as it is chosen. */
  function environmentOf(node) {
    var input = $('#node-config-input-environment');
    if (input.length && editing(node)) return input.val() || 'simulator';
    return node.environment || 'simulator';
  }

  function filled(v) {
    return typeof v === 'string' && v.trim() !== '';
  }

  /**
   * For a config node's `environment` validator: outside the simulator the secret credential
   * must be set. Credentials reach the editor only once the node has been opened; until then,
   * trust the server.
   */
  function secretMissing(node, credential) {
    if (editing(node)) return !filled($('#node-config-input-' + credential).val());
    var c = node.credentials;
    return !!c && !(c['has_' + credential] || filled(c[credential]));
  }

  var ENVIRONMENTS = ['simulator', 'test', 'production', 'custom'];

  /**
   * For a config node's oneditprepare: shows the rows the chosen environment needs. Rows carry
   * the classes `<prefix>-simulator`, `-custom`, `-hosted` (test and production), `-real`
   * (anything but the simulator) and `-tls-warning` (outside the simulator, while Verify TLS is
   * unticked). `more(env)` runs on every refresh for the node's own rows; `inputs` are further
   * inputs whose changes refresh. Returns the refresh function.
   */
  function prepareConfigDialog(prefix, more, inputs) {
    var environment = $('#node-config-input-environment');
    var verifyTls = $('#node-config-input-verifyTls');
    if (ENVIRONMENTS.indexOf(environment.val()) === -1) environment.val('simulator');

    function refresh() {
      var env = environment.val();
      var simulated = env === 'simulator';
      $('.' + prefix + '-custom').toggle(env === 'custom');
      $('.' + prefix + '-hosted').toggle(env === 'test' || env === 'production');
      $('.' + prefix + '-real').toggle(!simulated);
      $('.' + prefix + '-simulator').toggle(simulated);
      $('.' + prefix + '-tls-warning').toggle(!simulated && !verifyTls.is(':checked'));
      if (more) more(env);
    }

    environment.on('change', refresh);
    verifyTls.on('change', refresh);
    (inputs || []).forEach(function (input) { $(input).on('keyup change', refresh); });
    refresh();
    return refresh;
  }

  window.PosPayments = {
    environments: ENVIRONMENTS,
    prepareConfigDialog: prepareConfigDialog,
    editing: editing,
    environmentOf: environmentOf,
    filled: filled,
    secretMissing: secretMissing,
    configFor: configFor,
    providers: providers,
    provider: provider,
    supports: supports,
    providersWith: providersWith,
    prepareProviderField: prepareProviderField,
    kinds: KINDS,
    explainKinds: explainKinds
  };
})();

/*
 * Info boxes as wide as the rows around them: Node-RED caps .form-tips at 450 px, while the
 * pack's rows run the tray's full width, so its notes stopped short of the fields they explain.
 * Only forms that hold the pack's own catalog texts are touched, never another node's dialog.
 */
(function () {
  'use strict';
  // Also evaluated outside a browser (tests read the provider table): no page, nothing to style.
  if (typeof document === 'undefined' || document.getElementById('pos-payments-editor-style')) return;
  var style = document.createElement('style');
  style.id = 'pos-payments-editor-style';
  style.textContent = 'form:has([data-i18n^="pos-"]) .form-tips { max-width: none; }';
  document.head.appendChild(style);
})();
