/*
 * node-red-contrib-pos-payments: editor-side helper shared by every node of the pack.
 *
 * Node-RED serves this file at resources/node-red-contrib-pos-payments/pos-editor.js; each
 * node's .html loads it with a <script src>. Every node file loads it, so it must be safe to
 * run more than once: the first copy wins.
 *
 * The providers and what each can do come from the pack's one provider table,
 * lib/providers/registry.json: the build writes it into every node file as
 * window.PosPaymentsProviders (scripts/provider-parts.js), together with
 * each flow node's config-node fields and rows (Node-RED builds the config-node selects from
 * the static template before any editor script could add rows). Adding a provider touches
 * neither this file nor any .html.
 */
(function () {
  'use strict';

  if (window.PosPayments) return;

  /**
   * What each provider can do in this pack (the runtime adapters claim the same capabilities; a
   * unit test keeps them equal). `lacks` says why, shown in a dialog that does not offer the
   * provider so nobody hunts for it; `requestMethods` are what a request-in node may answer.
   */
  var table;
  // Read when first needed, not when this file loads: Node-RED runs a node file's <script src>
  // before its inline scripts, so the table is not there yet.
  function providers() {
    if (!table && window.PosPaymentsProviders) {
      table = window.PosPaymentsProviders.map(function (p) {
        var entry = { configType: 'pos-' + p.name };
        Object.keys(p).forEach(function (key) { entry[key] = p[key]; });
        return entry;
      });
    }
    return table || [];
  }

  function provider(name) {
    var all = providers();
    for (var i = 0; i < all.length; i++) {
      if (all[i].name === name) return all[i];
    }
    return undefined;
  }

  function supports(name, capability) {
    var p = provider(name);
    return !!(p && (!capability || p.capabilities[capability]));
  }

  function providersWith(capability) {
    return providers().filter(function (p) { return !capability || !!p.capabilities[capability]; });
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
      providers().forEach(function (p) { configRows(p.name).toggle(p.name === selected); });
      $('.form-row[data-pos-option]').each(function () {
        $(this).toggle(readsOption(selected, node && node.type, $(this).attr('data-pos-option')));
      });
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
    var missing = providers().filter(function (p) { return !p.capabilities[capability]; });
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
   * The provider a flow node uses: its own choice, else the default of its type (the value the
   * runtime falls back to as well, from nodes/defaults/<type>.json).
   */
  function providerOf(node) {
    var defaults = node && node._def && node._def.defaults;
    return (node && node.provider) || (defaults && defaults.provider && defaults.provider.value) || '';
  }

  /**
   * Whether a provider reads one of a flow node type's own options. The provider table lists
   * them per flow node type (`flowNodeOptions`), for the options only some providers have (a
   * stream to subscribe to, a request name to set). A dialog row marked
   * data-pos-option="<option>" is shown only while such a provider is selected.
   */
  function readsOption(name, type, option) {
    var p = provider(name);
    var options = p && p.flowNodeOptions && p.flowNodeOptions[type];
    return !!options && options.indexOf(option) !== -1;
  }

  /** For an option's validator: whether the provider this node uses reads it (else any value will do). */
  function usesOption(node, option) {
    return readsOption(providerOf(node), node && node.type, option);
  }

  /**
   * A flow node's config-node field is required only while its provider is the selected one.
   * Every flow node's config fields use it (`validate: PosPayments.configFor('<provider>')`, as
   * scripts/provider-parts.js writes them).
   */
  function configFor(provider) {
    return function (v) {
      if (providerOf(this) !== provider) return true;
      if (!v || v === '_ADD_') return false;
      var config = RED.nodes.node(v);
      return !!config && (config.valid == null || config.valid);
    };
  }

  /** A node's timeout in seconds: empty (the default), or more than 0 and at most an hour. */
  function timeoutValid(v) {
    if (v === '' || v === undefined || v === null) return true;
    var n = Number(v);
    return isFinite(n) && n > 0 && n <= 3600;
  }

  /** The `provider` validator of a flow node: a provider that can do `capability`. */
  function offers(capability) {
    return function (v) { return supports(v, capability); };
  }

  /** A pay or refund node's currency: empty (the default) or three letters. */
  function currencyValid(v) {
    return !v || /^\s*[A-Za-z]{3}\s*$/.test(v);
  }

  /** A pay or refund node's "When busy": wait in the terminal's queue, or fail at once. */
  function busyValid(v) {
    return !v || v === 'queue' || v === 'fail';
  }

  /**
   * For a flow node's oneditprepare: the provider field (see prepareProviderField) and, where
   * the dialog has them, the timeout spinner and a currency written in capitals.
   */
  function prepareFlowNode(node, capability) {
    prepareProviderField(node, capability);
    var timeout = $('#node-input-timeout');
    if (timeout.length) timeout.spinner({ min: 1, max: 3600 });
    $('#node-input-currency').on('change', function () {
      $(this).val($(this).val().trim().toUpperCase());
    });
  }

  /**
   * What every flow node's definition shares: its palette label and label (the catalog's
   * `<type>.paletteLabel`, or the node's name in italics), its port labels (`<type>.inputLabel`,
   * `<type>.outputs.<key>` for each of `outputs`) and an oneditprepare that prepares the
   * provider field for `capability` (prepareFlowNode).
   *
   * A node file uses it as the prototype of its own definition,
   * `RED.nodes.registerType('<type>', { __proto__: PosPayments.flowNode(...), category: ..., ... })`:
   * the Flow Library's check (node-red-dev) reads the definition only as a literal object whose
   * properties all have names, so neither a call in its place nor a spread would do. Whatever
   * the literal sets itself (a label, an oneditprepare that calls prepareFlowNode) wins.
   */
  function flowNode(type, capability, outputs) {
    return {
      paletteLabel: function () {
        return this._(type + '.paletteLabel');
      },
      label: function () {
        return this.name || this._(type + '.paletteLabel');
      },
      labelStyle: function () {
        return this.name ? 'node_label_italic' : '';
      },
      inputLabels: function () {
        return this._(type + '.inputLabel');
      },
      outputLabels: function (i) {
        return this._(type + '.outputs.' + (outputs || [])[i]);
      },
      oneditprepare: function () {
        prepareFlowNode(this, capability);
      }
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

    // Info boxes as wide as the rows (the shared style below may lose to the config tray's own rule).
    environment.closest('form').find('.form-tips').css('max-width', 'none');
    environment.on('change', refresh);
    verifyTls.on('change', refresh);
    (inputs || []).forEach(function (input) { $(input).on('keyup change', refresh); });
    refresh();
    return refresh;
  }

  var api = {
    environments: ENVIRONMENTS,
    prepareConfigDialog: prepareConfigDialog,
    editing: editing,
    environmentOf: environmentOf,
    filled: filled,
    secretMissing: secretMissing,
    configFor: configFor,
    providerOf: providerOf,
    usesOption: usesOption,
    timeoutValid: timeoutValid,
    currencyValid: currencyValid,
    busyValid: busyValid,
    offers: offers,
    flowNode: flowNode,
    prepareFlowNode: prepareFlowNode,
    provider: provider,
    supports: supports,
    providersWith: providersWith,
    prepareProviderField: prepareProviderField,
    kinds: KINDS,
    explainKinds: explainKinds
  };
  Object.defineProperty(api, 'providers', { get: providers, enumerable: true });
  window.PosPayments = api;
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
