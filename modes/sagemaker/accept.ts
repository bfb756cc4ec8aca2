/** One range of an Accept header: `image/*;q=0.5` is `{ type: 'image', subtype: '*', q: 0.5 }`. */
interface MediaRange {
  type: string;
  subtype: string;
  q: number;
}

const token = /^[a-z0-9!#$&^_.+-]+$/;

/** The valid ranges of an Accept header; a range that does not parse is skipped. */
function parseAccept(header: string): MediaRange[] {
  const ranges: MediaRange[] = [];
  for (const part of header.split(',')) {
    const [mediaRange = '', ...parameters] = part.split(';').map((piece) => piece.trim().toLowerCase());
    const [type = '', subtype = '', extra] = mediaRange.split('/');
    if (extra !== undefined || !(type === '*' || token.test(type)) || !(subtype === '*' || token.test(subtype)) || (type === '*' && subtype !== '*')) continue;
    const quality = parameters.find((parameter) => /^q\s*=/.test(parameter));
    const q = quality === undefined ? 1 : Number(quality.slice(quality.indexOf('=') + 1).trim());
    if (!Number.isFinite(q) || q < 0 || q > 1) continue;
    ranges.push({ type, subtype, q });
  }
  return ranges;
}

// The quality the header gives a media type: that of the most specific range that matches it
// (`image/png;q=0` refuses PNG even beside `image/*`), 0 when none does.
function qualityOf(ranges: readonly MediaRange[], mediaType: string): number {
  const [type, subtype] = mediaType.split('/');
  let best = -1;
  let quality = 0;
  for (const range of ranges) {
    const specificity = range.type === '*' ? 0 : range.type !== type ? -1 : range.subtype === '*' ? 1 : range.subtype === subtype ? 2 : -1;
    if (specificity < 0 || specificity < best) continue;
    quality = specificity > best ? range.q : Math.max(quality, range.q);
    best = specificity;
  }
  return quality;
}

/**
 * Picks what to answer from `offers` (media types, the server's preference first) for an Accept
 * header, as RFC 9110 negotiates: the offer with the highest quality wins, ties go to the earlier
 * offer. No header, or one with no range that parses, takes the first offer. Returns the index of
 * the offer, or undefined when the header refuses them all.
 * @example negotiate('application/json, image/*;q=0.1', ['image/jpeg', 'application/json']) // 1
 */
export function negotiate(header: string | undefined, offers: readonly string[]): number | undefined {
  if (header === undefined || header.trim() === '') return 0;
  const ranges = parseAccept(header);
  if (ranges.length === 0) return 0;
  let chosen: number | undefined;
  let chosenQuality = 0;
  offers.forEach((offer, index) => {
    const quality = qualityOf(ranges, offer);
    if (quality > chosenQuality) {
      chosen = index;
      chosenQuality = quality;
    }
  });
  return chosen;
}
