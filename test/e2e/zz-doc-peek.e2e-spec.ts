import request from 'supertest';
import { startTestApp } from '../support/test-app';
it('peek', async () => {
  const t = await startTestApp();
  const doc = (await request(t.http).get('/docs-json')).body;
  console.log(JSON.stringify(doc.paths['/api/v1/sessions/{sid}/contacts'].get.parameters, null, 1));
  console.log(JSON.stringify(doc.components.schemas.UpdateParticipantsDto, null, 1).slice(0, 800));
  console.log(JSON.stringify(doc.components.schemas.LookupNumbersDto, null, 1));
  await t.close();
});
