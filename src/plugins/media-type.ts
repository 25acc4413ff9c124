/** Media-type matching for the body hooks' `body_content_types`. */

/** Whether a media type (`application/json; charset=utf-8`) matches a pattern such as `text/*` or `application/*+json`. */
export function mediaTypeMatches(contentType: string, pattern: string): boolean {
  const type = contentType.split(";", 1)[0]!.trim().toLowerCase();
  const wanted = pattern.toLowerCase();
  if (wanted === type || wanted === "*/*") return true;
  const slash = wanted.indexOf("/");
  const [major, minor] = [wanted.slice(0, slash), wanted.slice(slash + 1)];
  if (!type.startsWith(major + "/")) return false;
  if (minor === "*") return true;
  if (minor.startsWith("*+")) return type.endsWith(minor.slice(1));
  return false;
}
