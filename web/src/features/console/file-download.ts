/**
 * Saves a file of the tenant's through the browser. /v1/files/{id}/content needs the key
 * as a bearer token, which a plain link cannot send: the bytes are fetched with it and
 * handed to the browser as a Blob URL.
 */
import type { ConsoleApi } from './console-api.js';

export async function downloadFile(api: ConsoleApi, fileId: string, filename: string): Promise<void> {
  const blob = await api.fileContent(fileId);
  const url = URL.createObjectURL(blob);
  try {
    const link = document.createElement('a');
    link.href = url;
    link.download = filename;
    link.rel = 'noopener';
    document.body.append(link);
    link.click();
    link.remove();
  } finally {
    // The click has started the download; the URL is not needed after this turn.
    setTimeout(() => URL.revokeObjectURL(url), 0);
  }
}

export function formatBytes(bytes: number, lang: string): string {
  if (bytes < 1024) return `${new Intl.NumberFormat(lang).format(bytes)} B`;
  const units = ['KB', 'MB', 'GB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${new Intl.NumberFormat(lang, { maximumFractionDigits: 1 }).format(value)} ${units[unit]}`;
}
