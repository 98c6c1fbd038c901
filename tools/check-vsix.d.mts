// Types of check-vsix.mjs for its unit test.

export interface ZipEntry {
  name: string;
  size: number;
  compressedSize: number;
  method: number;
  localHeader: number;
}

export const MAX_VSIX_BYTES: number;
export const REQUIRED_FILES: string[];
export function readZipEntries(zip: Buffer): ZipEntry[];
export function readZipEntry(zip: Buffer, entry: ZipEntry): Buffer;
export function vsixProblems(entries: Pick<ZipEntry, 'name'>[], totalBytes: number, manifest: string | undefined): string[];
export function checkVsix(path: string): { problems: string[]; bytes: number; fileCount: number; uncompressedBytes: number; byFolder: Map<string, number> };
