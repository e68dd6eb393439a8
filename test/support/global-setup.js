const { createTestDatabase } = require('./test-database');

module.exports = async () => {
  const database = await createTestDatabase('test', undefined, { durable: false });
  // Workers start after this and inherit the environment.
  process.env.WGW_TEST_DATABASE_URL = database.url;
  globalThis.__wgwTestDatabase = database;
};
