// The shared store suite on PGlite (in-process PostgreSQL, in memory).
import { storeSuite } from "../../test/support/store-suite.js";
import { pgliteDatabase } from "./db.js";
import { migrate } from "./migrations.js";

storeSuite("PGlite", async () => {
  const db = await pgliteDatabase(undefined);
  await migrate(db);
  return {
    db,
    async fresh() {
      const own = await pgliteDatabase(undefined);
      return { db: own, drop: () => own.close() };
    },
    close: () => db.close(),
  };
});
