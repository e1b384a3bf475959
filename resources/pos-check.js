/*
 * node-red-contrib-pos-payments: the config dialogs' "Test connection" button.
 *
 * Sends the dialog's values as they are now (unsaved ones included; a password the editor did
 * not change goes as its '__PWRD__' placeholder and the runtime takes the deployed one) to
 * POST pos-payments/check/<type>, and lists each step with what to change when one fails.
 * Loaded by every config node's .html, so it must be safe to run more than once.
 */
(function () {
  'use strict';

  if (window.PosPaymentsCheck) return;

  function valueOf(form, name) {
    var el = form.find('#node-config-input-' + name);
    if (!el.length) return undefined;
    return el.is(':checkbox') ? el.is(':checked') : el.val();
  }

  function item(icon, colour, text) {
    return $('<li>').css({ margin: '2px 0' })
      .append($('<i>').addClass('fa fa-fw ' + icon).css('color', colour))
      .append(' ')
      .append($('<span>').text(text));
  }

  function attach(node) {
    var form = $('#node-config-dialog-edit-form');
    if (!form.length) form = $(document);
    var button = form.find('.pos-check-button');
    var list = form.find('.pos-check-result');
    var t = function (key, subs) { return node._('pos.check.' + key, subs); };

    button.off('click.pos').on('click.pos', function () {
      var fields = {};
      Object.keys(node._def.defaults || {}).forEach(function (name) {
        var v = valueOf(form, name);
        if (v !== undefined) fields[name] = v;
      });
      var credentials = {};
      Object.keys(node._def.credentials || {}).forEach(function (name) {
        var v = valueOf(form, name);
        if (v !== undefined) credentials[name] = v;
      });
      list.empty().append(item('fa-spinner fa-spin', '#888', t('running')));
      button.prop('disabled', true);
      $.ajax({
        url: 'pos-payments/check/' + encodeURIComponent(node.type),
        type: 'POST',
        contentType: 'application/json',
        data: JSON.stringify({ id: node.id, fields: fields, credentials: credentials }),
        timeout: 180000
      }).done(function (report) {
        list.empty();
        (report.steps || []).forEach(function (step) {
          var label = t('step.' + step.name);
          list.append(item(step.ok ? 'fa-check' : 'fa-times', step.ok ? '#3a3' : '#c33', label + ': ' + step.detail));
        });
        Object.keys(report.facts || {}).forEach(function (name) {
          var fact = report.facts[name];
          var value = Array.isArray(fact.value) ? (fact.value.length ? fact.value.join(', ') : t('noneSeen')) : String(fact.value);
          list.append(item('fa-info-circle', '#37a', name + ': ' + value));
          if (fact.advice) list.append(item('fa-hand-o-right', '#c80', fact.advice));
        });
        list.append(item(report.ok ? 'fa-check-circle' : 'fa-exclamation-triangle', report.ok ? '#3a3' : '#c33', report.ok ? t('allHeld') : t('failed')));
      }).fail(function (xhr) {
        var why = xhr.status === 401 || xhr.status === 403 ? t('notPermitted')
          : (xhr.responseJSON && xhr.responseJSON.error) || t('noAnswer');
        list.empty().append(item('fa-times', '#c33', why));
      }).always(function () {
        button.prop('disabled', false);
      });
    });
  }

  window.PosPaymentsCheck = { attach: attach };
})();
