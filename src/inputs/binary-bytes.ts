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
 * Decodes a binary input's text that is still bytes (ASCII, as a JSON body holds a string with
 * no escapes), without ever making one string of it: a base64 `data:` URL or plain base64
 * (standard or URL-safe alphabet, at most two '=' at the end). Gives the same bytes as
 * `decodeBinaryText` on the same text; undefined for anything else (whitespace, a bad character,
 * a percent-encoded data: URL, a byte JSON would refuse in a string), which the text path then
 * decodes or refuses with its message.
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
 * (either one) but for at most two '=' at the end. Node's decoder skips what it does not know,
 * and a skipped character makes a piece decode to fewer bytes than its length promises, so a
 * count that matches at every piece proves every character valid, without a scan of its own.
 */
export function decodeBase64Bytes(text: Buffer): Buffer | undefined {
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
