/* The departure helper （外出前该办什么手续）. The rules are data in the page; evaluate()
   follows the same contract as generator/helper.py, and the tests hold the two to the
   same table of cases. Without JavaScript the page shows every rule as a card and no form;
   with it, this script shows the form, folds the cards under 查看全部规则 below the
   result, and keeps the result in step with the answers once it is shown. */
(function () {
  "use strict";

  function holds(condition, answers) {
    return Object.keys(condition || {}).every(function (key) {
      return condition[key].indexOf(answers[key]) !== -1;
    });
  }

  function evaluate(helper, answers) {
    var ruleset = null;
    for (var i = 0; i < helper.rulesets.length; i++) {
      if (holds(helper.rulesets[i].applies_when, answers)) { ruleset = helper.rulesets[i]; break; }
    }
    if (!ruleset) { return { ruleset: null, main: null, extras: [] }; }
    var rules = helper.rules.filter(function (r) { return r.ruleset === ruleset.id; });
    var main = null;
    for (var j = 0; j < rules.length; j++) {
      if (rules[j].kind === "main" && holds(rules[j].when, answers)) { main = rules[j]; break; }
    }
    var facts = Object.assign({}, answers, { outcome: main ? main.id : "" });
    var extras = rules.filter(function (r) {
      return r.kind === "extra" && holds(r.when, facts);
    }).map(function (r) { return r.id; });
    return { ruleset: ruleset.id, main: main ? main.id : null, extras: extras };
  }

  function el(tag, text, className) {
    var node = document.createElement(tag);
    if (text) { node.textContent = text; }
    if (className) { node.className = className; }
    return node;
  }

  function show(helper, verdict, target) {
    var byId = {};
    helper.rules.forEach(function (r) { byId[r.id] = r; });
    var ruleset = helper.rulesets.filter(function (r) { return r.id === verdict.ruleset; })[0];
    target.textContent = "";
    if (!verdict.main) {
      target.appendChild(el("p", "没有找到对应的规定，请拨打 12371 或联系所在党支部。"));
      return;
    }
    var main = byId[verdict.main];
    target.appendChild(el("h3", "您需要办理：" + main.outcome));
    target.appendChild(el("p", main.wording));
    target.appendChild(el("p", "依据：" + main.basis, "dx-meta"));
    verdict.extras.forEach(function (id) {
      var extra = byId[id];
      target.appendChild(el("h4", "另外：" + extra.outcome));
      target.appendChild(el("p", extra.wording));
      target.appendChild(el("p", "依据：" + extra.basis, "dx-meta"));
    });
    target.appendChild(el("p", "本结果按“" + ruleset.name + "”判断。", "dx-meta dx-ruleset"));
  }

  window.dxHelperEvaluate = evaluate;

  var data = document.getElementById("dx-helper-rules");
  var form = document.getElementById("dx-helper");
  var result = document.getElementById("dx-helper-result");
  if (!data || !form || !result) { return; }
  var helper = JSON.parse(data.textContent);
  window.dxHelperRules = helper;

  function answers() {
    var out = {};
    helper.questions.forEach(function (q) {
      var checked = form.querySelector('input[name="' + q.id + '"]:checked');
      out[q.id] = checked ? checked.value : "";
    });
    return out;
  }

  // The full list of rules stays on the page, folded: the form and the result come first.
  var all = document.getElementById("dx-helper-all");
  if (all) {
    var folded = el("details", "", "dx-helper-rules");
    folded.appendChild(el("summary", "查看全部规则"));
    all.parentNode.insertBefore(folded, all);
    folded.appendChild(all);
  }

  form.hidden = false;
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    show(helper, evaluate(helper, answers()), result);
    result.scrollIntoView({ behavior: "smooth", block: "start" });
  });
  // A result on screen always answers the answers on screen: changing one updates it.
  form.addEventListener("change", function () {
    if (result.childNodes.length) { show(helper, evaluate(helper, answers()), result); }
  });
})();
