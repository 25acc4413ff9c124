export function onCapture(record) {
  if (record.type !== "http" || record.response?.status !== 404) return undefined; // unchanged
  emit({ missing: record.request.url });
  record.tags = { ...record.tags, not_found: true };
  return record;
}
