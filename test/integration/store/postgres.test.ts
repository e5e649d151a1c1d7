// The store contract on PostgreSQL: each test gets its own schema, dropped afterwards.
import { openStore } from '../../../src/core/store/index.js';
import { PG_BASE, tempSchema } from '../../helpers/postgres.js';
import { storeContract } from './contract.js';

storeContract('postgres', async () => {
  const { schema, drop } = tempSchema();
  const store = await openStore({ engine: 'postgres', ...PG_BASE, schema, listen: false }, { migrate: true });
  return {
    store,
    cleanup: async () => {
      await store.close();
      await drop();
    },
  };
});
