// Reading Markdown as GitHub renders it, for the documentation's tests: the anchors a page has
// (its headings' slugs and explicit <a id>), and the links it makes, outside code.

/** The text with fenced code blocks blanked (their lines kept, so line numbers stay true). */
function withoutFences(markdown: string): string {
  let fence: string | undefined;
  return markdown
    .split('\n')
    .map((line) => {
      const marker = /^\s{0,3}(`{3,}|~{3,})/.exec(line)?.[1];
      if (fence === undefined && marker) {
        fence = marker;
        return '';
      }
      if (fence !== undefined) {
        if (marker && marker[0] === fence[0] && marker.length >= fence.length && line.trim() === marker) fence = undefined;
        return '';
      }
      return line;
    })
    .join('\n');
}

/** GitHub's heading slug: the heading's text, lowercase, punctuation but - and _ dropped, spaces to -. */
export function slug(headingText: string): string {
  const text = headingText
    .replace(/<[^>]+>/g, '') // inline HTML
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // links keep their text
    .replace(/`/g, '');
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** Every anchor of a page: its headings' slugs (a repeated one gets -1, -2, ...) and each `<a id>` or `<a name>`. */
export function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  const text = withoutFences(markdown);
  for (const [, heading] of text.matchAll(/^\s{0,3}#{1,6}[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$/gm)) {
    const base = slug(heading!);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  for (const [, id] of text.matchAll(/<a\s+(?:[^>]*\s)?(?:id|name)="([^"]+)"/g)) anchors.add(id!);
  return anchors;
}

/** The targets of a page's links and images, outside code blocks and code spans, with their line. */
export function linksOf(markdown: string): { target: string; line: number }[] {
  const links: { target: string; line: number }[] = [];
  withoutFences(markdown)
    .split('\n')
    .forEach((rawLine, index) => {
      const line = rawLine.replace(/(`+)[^`]*?\1/g, '');
      for (const [, target] of line.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)/g)) links.push({ target: target!, line: index + 1 });
      for (const [, target] of line.matchAll(/^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/g)) links.push({ target: target!, line: index + 1 });
      for (const [, target] of line.matchAll(/<a\s+(?:[^>]*\s)?href="([^"]+)"/g)) links.push({ target: target!, line: index + 1 });
    });
  return links;
}

/** Whether a link leaves the repository (a scheme such as https: or mailto:, or //host). */
export function isExternal(target: string): boolean {
  return /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//');
}
