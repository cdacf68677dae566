/** The part of `unzipper` (no bundled types) that the group import uses: open a zip held in memory. */
declare module "unzipper" {
  interface Entry {
    path: string;
    type: string;
    uncompressedSize: number;
    compressedSize: number;
    stream(): NodeJS.ReadableStream;
  }
  const unzipper: { Open: { buffer(data: Buffer): Promise<{ files: Entry[] }> } };
  export default unzipper;
}
