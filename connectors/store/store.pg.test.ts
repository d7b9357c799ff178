// The shared store suite on the machine's real PostgreSQL (a database of its own per file).
import { storeSuite } from "../../test/support/store-suite.js";
import { withPgDatabase } from "../../test/support/services.js";
import { postgresDatabase } from "./db.js";
import { migrate } from "./migrations.js";

storeSuite("PostgreSQL", async () => {
  const shared = await withPgDatabase();
  const db = postgresDatabase(shared.url);
  await migrate(db);
  return {
    db,
    async fresh() {
      const own = await withPgDatabase();
      const fdb = postgresDatabase(own.url);
      return {
        db: fdb,
        async drop() {
          await fdb.close();
          await own.drop();
        },
      };
    },
    async close() {
      await db.close();
      await shared.drop();
    },
  };
});
