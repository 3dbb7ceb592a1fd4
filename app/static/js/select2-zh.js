/* Select2 4.0.x in Simplified Chinese.  FAB 5.3 ships select2 4.0.13 without its i18n files,
   so its tooltips and messages ("Remove all items", "No results found", "Searching…") stayed
   English.  Loaded after select2.min.js, only on zh pages (app/templates/appbuilder/baselayout.html);
   the strings follow select2's own i18n/zh-CN.js. */
(function ($) {
  "use strict";
  if (!$ || !$.fn || !$.fn.select2 || !$.fn.select2.defaults) {
    return;
  }
  $.fn.select2.defaults.set("language", {
    errorLoading: function () { return "无法载入结果。"; },
    inputTooLong: function (args) { return "请删除" + (args.input.length - args.maximum) + "个字符"; },
    inputTooShort: function (args) { return "请再输入至少" + (args.minimum - args.input.length) + "个字符"; },
    loadingMore: function () { return "载入更多结果…"; },
    maximumSelected: function (args) { return "最多只能选择" + args.maximum + "个项目"; },
    noResults: function () { return "未找到结果"; },
    searching: function () { return "搜索中…"; },
    removeAllItems: function () { return "删除所有项目"; }
  });
})(window.jQuery);
