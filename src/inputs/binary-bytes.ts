/**
 * Base64 is decoded a piece at a time: each piece becomes a short string, then bytes. A multiple
 * of 4 characters, so every piece but the last decodes to whole bytes; small enough that its
 * string is a young heap object, collected at once (past about 1 MB a string's characters are
 * allocated outside the heap and wait for a full collection).
 */
export const pieceCharacters = 64 * 1024;
const dataPrefix = 'data:';
const base64Suffix = ';base64';
// Past this, a data: URL's media type is not a media type: left to the text path, which says so.
const longestDataUrlMeta = 1024;

/**
 * Decodes a binary input's text that is still bytes (a JSON string's contents, as the body holds
 * them), without ever making one string of it: a base64 `data:` URL or plain base64 (standard or
 * URL-safe alphabet, at most two '=' at the end, whitespace as `decodeBase64Bytes` says). Gives
 * the same bytes as `decodeBinaryText` on the string JSON.parse would make of it; undefined for
 * anything else (a bad character, another escape, a percent-encoded data: URL, a byte JSON would
 * refuse in a string), which the text path then decodes or refuses with its message.
 */
export function decodeBinaryBytes(text: Buffer): Buffer | undefined {
  let start = 0;
  if (text.length >= dataPrefix.length && text.toString('latin1', 0, dataPrefix.length).toLowerCase() === dataPrefix) {
    const comma = text.indexOf(0x2c);
    if (comma === -1 || comma > longestDataUrlMeta) return undefined;
    // What precedes the payload must be a JSON string's text as it is: no escape, no control character.
    for (let index = 0; index < comma; index++) if (text[index]! < 0x20 || text[index] === 0x5c) return undefined;
    if (comma - dataPrefix.length < base64Suffix.length || text.toString('latin1', comma - base64Suffix.length, comma).toLowerCase() !== base64Suffix)
      return undefined;
    start = comma + 1;
  }
  return decodeBase64Bytes(text.subarray(start));
}

/**
 * Decodes base64 held as bytes, a piece at a time; undefined unless every byte is in the alphabet
 * (either one) but for at most two '=' at the end, and for the whitespace a JSON string holds
 * (spaces, and line breaks and tabs written as the escapes `\n`, `\r`, `\t`, `\f`) and `\/`, which
 * the text path's decoding drops or reads as '/' too. Node's decoder skips what it does not know,
 * and a skipped character makes a piece decode to fewer bytes than its length promises, so a
 * count that matches at every piece proves every character valid, without a scan of its own.
 */
export function decodeBase64Bytes(text: Buffer): Buffer | undefined {
  if (text.includes(0x5c /* \ */) || text.includes(0x20 /* space */)) return decodeSpacedBase64Bytes(text);
  let end = text.length;
  while (end > 0 && text[end - 1] === 0x3d /* = */) end--;
  if (end === 0 || text.length - end > 2 || end % 4 === 1) return undefined;
  const bytes = Buffer.allocUnsafe(Math.floor((end * 3) / 4));
  let written = 0;
  for (let from = 0; from < end; from += pieceCharacters) {
    const to = Math.min(from + pieceCharacters, end);
    const promised = Math.floor(((to - from) * 3) / 4);
    if (bytes.write(text.toString('latin1', from, to), written, promised, 'base64') !== promised) return undefined;
    written += promised;
  }
  return bytes;
}

// The escapes and the space the text path's decoding drops (its whitespace), and `\/`.
const droppedInJson = /\\[nrtf/]| /g;

/**
 * `decodeBase64Bytes` for base64 broken by whitespace (MIME's lines of 76, written in JSON as
 * `\n`): each piece is cleaned of it and joined to what the last piece left over, and decoded in
 * multiples of 4 characters. The bytes are fewer than the text promises, by the whitespace.
 */
function decodeSpacedBase64Bytes(text: Buffer): Buffer | undefined {
  const bytes = Buffer.allocUnsafe(Math.floor((text.length * 3) / 4));
  let written = 0;
  let carry = '';
  for (let from = 0; from < text.length; ) {
    let to = Math.min(from + pieceCharacters, text.length);
    // An escape stays in one piece.
    if (to < text.length && text[to - 1] === 0x5c) to--;
    let piece = text.toString('latin1', from, to).replace(droppedInJson, (match) => (match === '\\/' ? '/' : ''));
    from = to;
    // Any other escape (\u000a, \\, \") is left to the text path.
    if (piece.includes('\\')) return undefined;
    piece = carry + piece;
    let usable = piece.length - (piece.length % 4);
    if (from >= text.length) {
      usable = piece.length;
      while (usable > 0 && piece.charCodeAt(usable - 1) === 0x3d /* = */) usable--;
      if (piece.length - usable > 2 || usable % 4 === 1 || written + usable === 0) return undefined;
    }
    carry = piece.slice(usable);
    const promised = Math.floor((usable * 3) / 4);
    if (promised > 0 && bytes.write(piece.slice(0, usable), written, promised, 'base64') !== promised) return undefined;
    written += promised;
  }
  return bytes.subarray(0, written);
}
