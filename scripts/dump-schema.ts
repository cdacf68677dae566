/**
 * Writes src/db/schema.sql: the whole schema after every migration, for review.
 * A test fails when it is out of date (`bun scripts/dump-schema.ts` mends it).
 */
import { dumpSchema, openDatabase } from "../src/db/index.ts";

const db = openDatabase(":memory:");
await Bun.write(new URL("../src/db/schema.sql", import.meta.url), dumpSchema(db));
db.close();
console.log("wrote src/db/schema.sql");
