/* The departure helper （外出前该办什么手续）. The rules are data in the page; evaluate()
   follows the same contract as generator/helper.py, and the tests hold the two to every
   way through the questions. Without JavaScript the page shows every rule as a card and no
   form. With it, this script shows the form with only the questions the answers so far
   lead to and nothing answered in advance, folds the cards under 查看全部规则, and clears
   the result whenever an answer changes, so a result on screen always answers the
   answers on screen. */
(function () {
  "use strict";

  function holds(condition, answers) {
    return Object.keys(condition || {}).every(function (key) {
      return condition[key].indexOf(answers[key]) !== -1;
    });
  }

  // A question's ask_when is one condition or a list of them, any of which asks it.
  function asks(question, given) {
    var conditions = Array.isArray(question.ask_when) ? question.ask_when : [question.ask_when];
    return conditions.some(function (c) { return holds(c, given); });
  }

  // The ids of the questions these answers lead to, in the order they are asked.
  function asked(helper, answers) {
    var ids = [];
    var given = {};
    helper.questions.forEach(function (q) {
      if (asks(q, given)) {
        ids.push(q.id);
        if (answers[q.id]) { given[q.id] = answers[q.id]; }
      }
    });
    return ids;
  }

  function evaluate(helper, answers) {
    var questions = asked(helper, answers);
    var missing = questions.filter(function (id) { return !answers[id]; });
    if (missing.length) { return { ruleset: null, main: null, extras: [], missing: missing }; }
    var facts = {};
    questions.forEach(function (id) { facts[id] = answers[id]; });
    var ruleset = null;
    for (var i = 0; i < helper.rulesets.length; i++) {
      if (holds(helper.rulesets[i].applies_when, facts)) { ruleset = helper.rulesets[i]; break; }
    }
    if (!ruleset) { return { ruleset: null, main: null, extras: [], missing: [] }; }
    var rules = helper.rules.filter(function (r) { return r.ruleset === ruleset.id; });
    var main = null;
    for (var j = 0; j < rules.length; j++) {
      if (rules[j].kind === "main" && holds(rules[j].when, facts)) { main = rules[j]; break; }
    }
    var withOutcome = Object.assign({}, facts, { outcome: main ? main.id : "" });
    var extras = rules.filter(function (r) {
      return r.kind === "extra" && holds(r.when, withOutcome);
    }).map(function (r) { return r.id; });
    return { ruleset: ruleset.id, main: main ? main.id : null, extras: extras, missing: [] };
  }

  function el(tag, text, className) {
    var node = document.createElement(tag);
    if (text) { node.textContent = text; }
    if (className) { node.className = className; }
    return node;
  }

  // A button into the forms app. In the offline copy (`dangxiao offline`, whose pages say
  // the online address in <html data-dx-online>) the app is not there: the button becomes
  // the note the copy puts for every such link, with the full online address.
  function appLink(text, className, path) {
    var online = document.documentElement.getAttribute("data-dx-online");
    if (!online) {
      var link = el("a", text, className);
      link.href = path;
      return link;
    }
    var url = online.replace(/\/$/, "") + path;
    var note = el("span", text, "dx-offline-app");
    var said = el("span", "（联网后可用：", "dx-offline-note");
    var to = el("a", url.split("?")[0]);
    to.href = url;
    said.appendChild(to);
    said.appendChild(document.createTextNode("）"));
    note.appendChild(said);
    return note;
  }

  // The 依据 of one rule, as the cards show it: document, kind, scope, quoted clauses folded.
  // A document's date and scope are said once per result (`said` remembers which).
  function basis(helper, rule, said) {
    var box = el("div", "", "dx-basis dx-basis--rule");
    var head = el("p", "", "dx-basis-head");
    head.appendChild(el("strong", "依据"));
    box.appendChild(head);
    var list = el("ul", "", "dx-cites");
    var byDoc = {};
    var order = [];
    rule.basis.forEach(function (c) {
      if (!byDoc[c.doc]) { byDoc[c.doc] = []; order.push(c.doc); }
      if (byDoc[c.doc].indexOf(c.clause) === -1) { byDoc[c.doc].push(c.clause); }
    });
    order.forEach(function (id) {
      var doc = helper.docs[id];
      if (!doc) { return; }
      var item = el("li", "", "dx-cite");
      var name = el("p", "", "dx-cite-doc");
      name.appendChild(el("strong", doc.heading));
      if (doc.heading !== doc.kind) { name.appendChild(el("span", doc.kind, "dx-cite-kind")); }
      item.appendChild(name);
      if (!said[id]) {
        item.appendChild(el("p", doc.date + "。适用范围：" + doc.scope, "dx-cite-scope"));
        said[id] = true;
      }
      var clauses = byDoc[id].map(function (cid) { return doc.clauses[cid]; })
        .filter(Boolean);
      var fold = el("details", "", "dx-clause");
      fold.appendChild(el("summary", "原文：" + (clauses.length > 3
        ? clauses.length + " 条" : clauses.map(function (c) { return c.name; }).join("、"))));
      if (doc.source) { fold.appendChild(el("p", doc.source, "dx-cite-source")); }
      clauses.forEach(function (c) {
        if (clauses.length > 1) { fold.appendChild(el("p", c.name, "dx-clause-name")); }
        fold.appendChild(el("blockquote", c.text));
      });
      item.appendChild(fold);
      list.appendChild(item);
    });
    box.appendChild(list);
    return box;
  }

  // One answer as the member's summary says it: 外出原因：务工经商、找工作.
  function summaryOf(helper, id, value) {
    var q = helper.questions.filter(function (x) { return x.id === id; })[0];
    var o = q && q.options.filter(function (x) { return x.value === value; })[0];
    return q && o ? (q.short || q.label.replace(/？$/, "")) + "：" + o.label : "";
  }

  // What the member would tell the branch: their situation and the result, ready to edit.
  function question(helper, answers, main) {
    var facts = asked(helper, answers).map(function (id) {
      return summaryOf(helper, id, answers[id]);
    });
    return "我的情况：" + facts.join("；") + "。网站给出的结果是“" + main.outcome +
      "”。想请支部确认：";
  }

  // Text with the hotline made a number the phone can dial.
  function withHotline(node, text) {
    text.split("12371").forEach(function (part, i) {
      if (i) {
        var call = el("a", "12371");
        call.href = "tel:12371";
        node.appendChild(call);
      }
      node.appendChild(document.createTextNode(part));
    });
    return node;
  }

  function show(helper, verdict, answers, target) {
    var byId = {};
    helper.rules.forEach(function (r) { byId[r.id] = r; });
    target.textContent = "";
    if (verdict.missing.length) {
      target.appendChild(el("p", "还有问题没有回答：", "dx-helper-missing"));
      var list = el("ul");
      verdict.missing.forEach(function (id) {
        var q = helper.questions.filter(function (x) { return x.id === id; })[0];
        list.appendChild(el("li", q.label));
      });
      target.appendChild(list);
      return;
    }
    if (!verdict.main) {
      target.appendChild(el("p", "没有找到对应的规定，请拨打 12371 或联系所在党支部。"));
      return;
    }
    var ruleset = helper.rulesets.filter(function (r) { return r.id === verdict.ruleset; })[0];
    var main = byId[verdict.main];
    target.appendChild(el("h3", "您需要办理：" + main.outcome));
    target.appendChild(el("p", main.wording));
    if (main.next_step) {
      var next = el("p", "", "dx-next");
      next.appendChild(el("strong", "下一步："));
      withHotline(next, main.next_step);
      target.appendChild(next);
    }
    var said = {};
    target.appendChild(basis(helper, main, said));
    verdict.extras.forEach(function (id) {
      var extra = byId[id];
      target.appendChild(el("h4", "另外：" + extra.outcome));
      target.appendChild(el("p", extra.wording));
      target.appendChild(basis(helper, extra, said));
    });
    // A result that says the documents are silent names no rule set as its source.
    var silent = main.basis.every(function (c) {
      return (helper.docs[c.doc] || {}).kind === "本网站服务规则";
    });
    target.appendChild(el("p", silent ? "本站收录的“" + ruleset.name + "”没有写到这种情况。"
      : "本结果按“" + ruleset.name + "”判断。", "dx-meta dx-ruleset"));
    var actions = el("div", "", "dx-helper-actions");
    actions.appendChild(el("p", "拿不准？通过电子信箱把您的情况告诉支部，两个工作日内答复。" +
      "提问不等于外出报告：外出前，请点“向支部报告外出”告诉所在党支部。"));
    var category = main.outcome.indexOf("活动证") !== -1 ? "活动证" : "组织关系";
    actions.appendChild(appLink("向支部提问", "md-button md-button--primary",
      "/app/ask?category=" + encodeURIComponent(category) + "&question=" +
      encodeURIComponent(question(helper, answers, main))));
    // The departure report, prefilled from the answers; the member can change every field
    // and nothing is stored until they send it. The months are left for the member: an
    // answer such as 超过 6 个月 gives no number, and a guessed one would be sent unread.
    actions.appendChild(appLink("向支部报告外出", "md-button",
      "/app/report?kind=departure&instrument=" + encodeURIComponent(main.outcome) +
      (answers.fixed_place === "yes" || answers.fixed_place === "no"
        ? "&fixed_place=" + answers.fixed_place : "")));
    target.appendChild(actions);
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

  // Only the questions the answers so far lead to are on screen; a question that leaves
  // the screen forgets its answer, so nothing is ever answered for the member.
  function showQuestions() {
    var now = asked(helper, answers());
    helper.questions.forEach(function (q) {
      var box = form.querySelector('fieldset[data-question="' + q.id + '"]');
      var wanted = now.indexOf(q.id) !== -1;
      if (!wanted) {
        box.querySelectorAll("input").forEach(function (input) { input.checked = false; });
      }
      box.hidden = !wanted;
      box.classList.remove("dx-missing");
    });
  }

  // The full list of rules stays on the page, folded: the form and the result come first.
  var all = document.getElementById("dx-helper-all");
  if (all) {
    var folded = el("details", "", "dx-helper-rules");
    folded.appendChild(el("summary", "查看全部规则"));
    all.parentNode.insertBefore(folded, all);
    folded.appendChild(all);
  }

  showQuestions();
  form.hidden = false;
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var given = answers();
    var verdict = evaluate(helper, given);
    show(helper, verdict, given, result);
    if (verdict.missing.length) {
      verdict.missing.forEach(function (id) {
        form.querySelector('fieldset[data-question="' + id + '"]').classList.add("dx-missing");
      });
      var first = form.querySelector('fieldset[data-question="' + verdict.missing[0] + '"]');
      first.scrollIntoView({ block: "start" });
      var input = first.querySelector("input");
      if (input) { input.focus({ preventScroll: true }); }
      return;
    }
    result.scrollIntoView({ block: "start" });
    result.focus({ preventScroll: true });
  });
  // Changing an answer clears the result: it answered the old answers.
  form.addEventListener("change", function () {
    showQuestions();
    if (result.childNodes.length) {
      result.textContent = "";
      result.appendChild(el("p", "回答有改动，请再点一次“看看该办什么”。", "dx-hint"));
    }
  });
})();
