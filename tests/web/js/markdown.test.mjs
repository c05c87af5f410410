// The journal's Markdown subset (web/static/web/app/markdown.js): what an author writes is
// escaped before any tag is added, so no input can produce markup of its own.
import assert from "node:assert/strict";
import { test } from "node:test";

import { escapeHtml, renderMarkdown } from "../../../web/static/web/app/markdown.js";

test("headings, emphasis, lists, quotes and code become their tags", () => {
  const html = renderMarkdown("# Porto\n\nWe **walked** to *Alfama* and _back_.\n\n- tram 28\n- `pastéis`\n\n1. one\n2. two\n\n> quoted\n\n```\nx < y\n```");
  assert.match(html, /<h2>Porto<\/h2>/);
  assert.match(html, /<strong>walked<\/strong>/);
  assert.match(html, /<em>Alfama<\/em>/);
  assert.match(html, /<em>back<\/em>/);
  assert.match(html, /<ul><li>tram 28<\/li><li><code>pastéis<\/code><\/li><\/ul>/);
  assert.match(html, /<ol><li>one<\/li><li>two<\/li><\/ol>/);
  assert.match(html, /<blockquote><p>quoted<\/p><\/blockquote>/);
  assert.match(html, /<pre><code>x &lt; y<\/code><\/pre>/);
});

test("HTML in the text stays text", () => {
  const html = renderMarkdown('<script>alert(1)</script> <img src=x onerror="alert(1)"> **<b>bold</b>**');
  assert.doesNotMatch(html, /<script|<img|<b>/);
  assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  assert.match(html, /&lt;img src=x onerror=&quot;alert\(1\)&quot;&gt;/);
});

test("links only to http(s), mailto and this site, and their href cannot leave the attribute", () => {
  assert.match(renderMarkdown("[map](https://example.org/a?b=1&c=2)"), /<a href="https:\/\/example.org\/a\?b=1&amp;c=2" rel="noopener noreferrer nofollow">map<\/a>/);
  assert.match(renderMarkdown("[trip](/app/#trip/1)"), /<a href="\/app\/#trip\/1"/);
  for (const bad of ["javascript:alert(1)", "data:text/html,x", "//evil.example/x", "JaVaScRiPt:alert(1)"]) {
    assert.doesNotMatch(renderMarkdown(`[x](${bad})`), /<a /, bad);
  }
  const quoted = renderMarkdown('[x](https://a.example/"onmouseover="alert(1))');
  assert.doesNotMatch(quoted, /" onmouseover|"onmouseover/);
});

test("emphasis never reaches inside code spans or link targets", () => {
  const html = renderMarkdown("`_x_ **y**` [a](https://a.example/_b_)");
  assert.match(html, /<code>_x_ \*\*y\*\*<\/code>/);
  assert.match(html, /href="https:\/\/a.example\/_b_"/);
});

test("escapeHtml escapes the five characters", () => {
  assert.equal(escapeHtml(`<a href="x">'&'</a>`), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
});
