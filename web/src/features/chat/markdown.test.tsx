// @vitest-environment happy-dom
import { cleanup, render } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { Markdown } from './markdown.js';

afterEach(cleanup);

function html(text: string): HTMLElement {
  return render(<Markdown text={text} />).container;
}

describe('markdown from a model', () => {
  it('renders markdown with highlighted code', () => {
    const out = html('**bold** and `code`\n\n```js\nconst x = 1;\n```\n\n- a\n- b');
    expect(out.querySelector('strong')?.textContent).toBe('bold');
    expect(out.querySelector('pre code')?.classList.contains('hljs')).toBe(true);
    expect(out.querySelector('pre code .hljs-keyword')?.textContent).toBe('const');
    expect(out.querySelectorAll('li')).toHaveLength(2);
  });

  it("renders GitHub's tables and strikethrough, still sanitised", () => {
    const out = html('| model | price |\n|---|---|\n| pro | ¥0.8 |\n\n~~old~~ <img src=x onerror=alert(1)>');
    expect([...out.querySelectorAll('th')].map((th) => th.textContent)).toEqual(['model', 'price']);
    expect(out.querySelector('td')?.textContent).toBe('pro');
    expect(out.querySelector('del')?.textContent).toBe('old');
    expect(out.querySelector('img')).toBeNull();
  });

  it('never lets the output run script', () => {
    const attacks = [
      '<script>window.pwned = 1</script>',
      '<img src="x" onerror="window.pwned = 1">',
      '<iframe src="javascript:window.pwned=1"></iframe>',
      '<a href="javascript:window.pwned=1">click</a>',
      '[click](javascript:window.pwned=1)',
      '[click](  JaVaScRiPt:window.pwned=1)',
      '![x](javascript:window.pwned=1)',
      '[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)',
      '<svg onload="window.pwned=1"><circle /></svg>',
      '<div style="background:url(javascript:alert(1))" onclick="window.pwned=1">x</div>',
      '<form action="javascript:alert(1)"><button>go</button></form>',
      '[ref]: javascript:window.pwned=1\n\n[ref]',
    ].join('\n\n');
    const out = html(attacks);
    expect(out.querySelectorAll('script, iframe, svg, form, object, embed, style')).toHaveLength(0);
    for (const element of out.querySelectorAll('*')) {
      for (const attribute of element.getAttributeNames()) {
        expect(attribute.startsWith('on'), `${element.tagName} ${attribute}`).toBe(false);
        expect(attribute).not.toBe('style');
      }
      for (const attribute of ['href', 'src', 'action']) {
        const value = element.getAttribute(attribute) ?? '';
        expect(value.replace(/\s/g, '').toLowerCase()).not.toMatch(/^(javascript|data|vbscript):/);
      }
    }
    expect((window as unknown as { pwned?: number }).pwned).toBeUndefined();
    // Raw HTML is shown as the text it is, not interpreted.
    expect(out.textContent).toContain('<script>window.pwned = 1</script>');
    expect(out.textContent).toContain('<img src="x" onerror="window.pwned = 1">');
  });

  it('opens links in a new tab without handing over the page', () => {
    const link = html('[docs](https://example.com/docs)').querySelector('a')!;
    expect(link.getAttribute('href')).toBe('https://example.com/docs');
    expect(link.getAttribute('target')).toBe('_blank');
    expect(link.getAttribute('rel')).toContain('noopener');
  });
});
