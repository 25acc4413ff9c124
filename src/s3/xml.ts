/**
 * The little XML S3 needs: reading a few known elements of a response and
 * writing the CompleteMultipartUpload body. S3's responses are flat and
 * well-formed, so a full parser is not needed.
 */

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

/** Decodes the five predefined entities and numeric character references. */
export function xmlUnescape(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);/g, (whole, name: string) => {
    if (name.startsWith("#x")) return String.fromCodePoint(parseInt(name.slice(2), 16));
    if (name.startsWith("#")) return String.fromCodePoint(parseInt(name.slice(1), 10));
    return ENTITIES[name] ?? whole;
  });
}

/** Escapes text for an element's content. */
export function xmlEscape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/**
 * The text of the first `<name>` element, or undefined.
 *
 * @example
 * xmlElementText("<Error><Code>NoSuchKey</Code></Error>", "Code"); // "NoSuchKey"
 */
export function xmlElementText(xml: string, name: string): string | undefined {
  const match = new RegExp(`<${name}(?:\\s[^>]*)?>([\\s\\S]*?)</${name}>`).exec(xml);
  return match === null ? undefined : xmlUnescape(match[1]!);
}

/** The `<Code>` and `<Message>` of an S3 `<Error>` document, if it is one. */
export function parseS3Error(xml: string): { code: string; message: string } | undefined {
  const error = xmlElementText(xml, "Error");
  if (error === undefined) return undefined;
  return { code: xmlElementText(error, "Code") ?? "Unknown", message: xmlElementText(error, "Message") ?? "" };
}

/** One uploaded part, as CompleteMultipartUpload lists it. */
export interface CompletedPart {
  partNumber: number;
  /** The ETag UploadPart returned, quotes included. */
  etag: string;
}

/** The CompleteMultipartUpload request body. */
export function completeMultipartUploadXml(parts: readonly CompletedPart[]): string {
  let xml =
    '<?xml version="1.0" encoding="UTF-8"?>\n<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">';
  for (const part of parts) {
    xml += `<Part><PartNumber>${part.partNumber}</PartNumber><ETag>${xmlEscape(part.etag)}</ETag></Part>`;
  }
  return xml + "</CompleteMultipartUpload>";
}
