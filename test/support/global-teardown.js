module.exports = async () => {
  await globalThis.__wgwTestDatabase?.drop();
};
