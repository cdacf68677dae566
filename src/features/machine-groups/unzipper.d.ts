/** The part of `unzipper` (no bundled types) that the group import uses: its zip directory reader over a source held in memory. */
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
