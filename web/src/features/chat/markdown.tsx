/**
 * A model's answer as markdown. Nothing in it can run script: raw HTML is shown as the
 * text it is (a model writing about HTML means the code, not the page), rehype-sanitize
 * keeps only GitHub's safe subset of elements and attributes, and react-markdown drops
 * `javascript:` and other unsafe URLs. Highlighting runs after sanitising, so its class
 * names survive. The page's Content-Security-Policy is the last line. GitHub's extensions
 * (tables, strikethrough, task lists, autolinks) come from remark-gfm; sanitising keeps them.
 */
import { memo } from 'react';
import ReactMarkdown, { type Options } from 'react-markdown';
import rehypeHighlight from 'rehype-highlight';
import rehypeSanitize from 'rehype-sanitize';
import remarkGfm from 'remark-gfm';

const rehypePlugins: Options['rehypePlugins'] = [rehypeSanitize, [rehypeHighlight, { detect: false }]];

interface MdNode {
  type: string;
  value?: string;
  children?: MdNode[];
}

/** A remark plugin: every raw HTML node becomes a text node with the same characters. */
function htmlAsText() {
  const visit = (node: MdNode) => {
    if (node.type === 'html') node.type = 'text';
    node.children?.forEach(visit);
  };
  return (tree: MdNode) => visit(tree);
}

const remarkPlugins: Options['remarkPlugins'] = [remarkGfm, htmlAsText];

export const Markdown = memo(function Markdown({ text }: { text: string }) {
  return (
    <div className="markdown">
      <ReactMarkdown
        remarkPlugins={remarkPlugins}
        rehypePlugins={rehypePlugins}
        components={{ a: ({ node: _node, ...props }) => <a {...props} target="_blank" rel="noopener noreferrer nofollow" /> }}
      >
        {text}
      </ReactMarkdown>
    </div>
  );
});
