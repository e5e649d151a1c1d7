// The store contract on PostgreSQL: each test gets its own schema, dropped afterwards.
import { tempPostgresStore } from '../../helpers/postgres.js';
import { storeContract } from './contract.js';

storeContract('postgres', async () => {
  return tempPostgresStore();
});
