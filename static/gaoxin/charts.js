/* Gaoxin charts: draws every [data-chart] element from the page's #chart-data JSON with
   Apache ECharts. Each chart also has its data as a table (text alternative) and an .xlsx
   export, so nothing depends on this script. Dark on the big screen (body.bigscreen). */
(function () {
  "use strict";
  function ready(fn) {
    if (document.readyState !== "loading") fn(); else document.addEventListener("DOMContentLoaded", fn);
  }
  ready(function () {
    var source = document.getElementById("chart-data");
    if (!source || !window.echarts) return;
    var data = JSON.parse(source.textContent);
    var dark = document.body.classList.contains("bigscreen");
    var text = dark ? "#d8e6ff" : "#1f2933";
    var palette = ["#b3261e", "#1f5fa8", "#1b7f3b", "#a15c00", "#6d3fa0", "#00838f", "#c2185b", "#5d6d7e", "#8d6e63"];
    var base = { color: palette, backgroundColor: "transparent", textStyle: { color: text } };
    var build = {
      monthly: function (d) {
        return {
          tooltip: { trigger: "axis" },
          legend: { top: 0, data: [d.value_name, d.growth_name], textStyle: { color: text } },
          grid: { left: 60, right: 50, top: 60, bottom: 30 },
          xAxis: { type: "category", data: d.months },
          yAxis: [{ type: "value", name: d.value_name }, { type: "value", name: "%", splitLine: { show: false } }],
          series: [
            { name: d.value_name, type: "bar", data: d.values },
            { name: d.growth_name, type: "line", yAxisIndex: 1, data: d.growth, smooth: true }
          ]
        };
      },
      pie: function (d) {
        return {
          tooltip: { trigger: "item", formatter: "{b}: {c} ({d}%)" },
          series: [{ type: "pie", radius: ["35%", "65%"], data: d.items, label: { color: text } }]
        };
      },
      hbar: function (d) {
        return {
          tooltip: { trigger: "axis" },
          grid: { left: 10, right: 30, top: 10, bottom: 10, containLabel: true },
          xAxis: { type: "value", splitNumber: 3, axisLabel: { formatter: function (v) { return v >= 10000 ? (v / 10000) + "亿" : v; } } },
          yAxis: { type: "category", inverse: true, data: d.names, axisLabel: { width: 180, overflow: "truncate" } },
          series: [{ type: "bar", data: d.values }]
        };
      },
      gauges: function (d) {
        var n = Math.max(d.items.length, 1);
        return {
          series: d.items.map(function (item, i) {
            var max = Math.max(item.target || 0, item.value || 0, 1) * 1.25;
            var label = item.name + (item.target !== null ? "\n" + (d.target_word || "目标") + " " + item.target + (item.unit === "%" ? "%" : "") + (item.target_year ? " (" + item.target_year + ")" : "") : "");
            return {
              type: "gauge", min: 0, max: Math.round(max * 100) / 100,
              startAngle: 210, endAngle: -30,
              center: [((i + 0.5) / n * 100) + "%", "45%"], radius: Math.min(34, 95 / n) + "%",
              progress: { show: true, width: 10 },
              axisLine: { lineStyle: { width: 10 } },
              axisTick: { show: false }, splitLine: { show: false }, axisLabel: { show: false },
              pointer: { show: false },
              anchor: { show: false },
              title: { offsetCenter: [0, "115%"], color: text, fontSize: 12, width: 130, overflow: "break", lineHeight: 16 },
              detail: { formatter: "{value}" + (item.unit === "%" ? "%" : ""), fontSize: 18, color: text, offsetCenter: [0, 0], valueAnimation: true },
              data: [{ value: item.value === null ? 0 : item.value, name: label }]
            };
          })
        };
      }
    };
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var key = el.getAttribute("data-chart");
      var kind = el.getAttribute("data-kind");
      var maker = build[kind] || build[key];
      if (!maker || !data[key]) return;
      var chart = window.echarts.init(el, null, { renderer: "canvas" });
      chart.setOption(Object.assign({}, base, maker(data[key])));
      window.addEventListener("resize", function () { chart.resize(); });
    });
  });
})();
