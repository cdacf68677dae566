/** The part of `unzipper` its package types leave out: the zip directory reader alone (machine-groups import, packages upload), without the index module that also loads S3 and HTTP sources. */
declare module "unzipper/lib/Open/directory.js" {
  interface Entry {
    path: string;
    type: string;
    uncompressedSize: number;
    compressedSize: number;
    stream(): NodeJS.ReadableStream;
  }
  interface Source {
    stream(offset: number, length?: number): NodeJS.ReadableStream;
    size(): Promise<number>;
  }
  export default function openDirectory(source: Source, options?: { tailSize?: number }): Promise<{ files: Entry[] }>;
}
