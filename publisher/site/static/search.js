// Client-side search over /search-index.json: the site stays static, nothing is sent anywhere.
(function () {
  "use strict";
  var params = new URLSearchParams(window.location.search);
  var query = (params.get("q") || "").trim();
  var input = document.getElementById("search-q");
  var status = document.getElementById("search-status");
  var list = document.getElementById("search-results");
  if (!input || !status || !list) { return; }
  input.value = query;
  if (!query) { status.textContent = "请输入关键词。"; return; }
  var terms = query.toLowerCase().split(/\s+/).filter(Boolean);
  fetch("/search-index.json").then(function (r) { return r.json(); }).then(function (records) {
    var hits = records.filter(function (rec) {
      var text = (rec.t + " " + rec.s + " " + rec.c + " " + rec.g.join(" ")).toLowerCase();
      return terms.every(function (t) { return text.indexOf(t) !== -1; });
    });
    status.textContent = "找到 " + hits.length + " 篇与“" + query + "”相关的稿件。";
    hits.slice(0, 100).forEach(function (rec) {
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.className = "entry-title";
      a.href = rec.u;
      a.textContent = rec.t;
      var meta = document.createElement("span");
      meta.className = "entry-meta";
      meta.textContent = rec.c + " · " + rec.d;
      li.appendChild(a);
      li.appendChild(meta);
      if (rec.s) {
        var p = document.createElement("p");
        p.className = "entry-summary";
        p.textContent = rec.s;
        li.appendChild(p);
      }
      list.appendChild(li);
    });
  }).catch(function () {
    status.textContent = "搜索索引暂时无法加载，请稍后再试。";
  });
})();
