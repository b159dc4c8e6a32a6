import type { ObjectRef } from '@querygate/core';
import { ViewResolverCapability, type RelationInfo, type ViewResolver } from '../src';
import { BASE_OPTIONS, col, context, loadMasking, out, result, session, stmt, users } from './fixtures';

const contactsView = { schema: 'public', name: 'contacts' };
const contact = (column: string) => ({ schema: 'public', table: 'contacts', column });

class CatalogResolver implements ViewResolver {
  version = 1;
  constructor(private readonly relations: Map<string, RelationInfo>) {}
  describe(relation: ObjectRef): RelationInfo | undefined {
    return this.relations.get(relation.name);
  }
}

function catalog(): CatalogResolver {
  return new CatalogResolver(new Map<string, RelationInfo>([
    ['users', { kind: 'table', columns: ['id', 'email', 'ssn', 'name'] }],
    ['orders', { kind: 'table' }],
    ['contacts', {
      kind: 'view', complete: true, reads: [{ schema: 'public', name: 'users' }],
      columns: [
        { name: 'id', sources: [users('id')], direct: true },
        { name: 'mail', sources: [users('email')], direct: true },
        { name: 'tag', sources: [users('name'), users('ssn')] },
      ],
    }],
    ['contacts2', {
      kind: 'view', complete: true, reads: [contactsView],
      columns: [{ name: 'm', sources: [contact('mail')], direct: true }],
    }],
  ]));
}

const selectContacts = stmt('SELECT * FROM contacts', {
  reads: [contactsView], outputs: [out([contact('*')], { direct: true, expands: true })],
});
const contactColumns = [col('id', 'int4', contact('id')), col('mail', 'text', contact('mail')), col('tag', 'text', contact('tag'))];
const row = ['1', 'alice@example.com', 'Alice 123-45-6789'];

describe('views resolved through a ViewResolver capability', () => {
  it('follows view columns to base columns (direct keeps the strategy, computed uses derived)', async () => {
    const masking = await loadMasking(BASE_OPTIONS, new Map([[ViewResolverCapability.name, catalog()]]));
    const ctx = context();
    expect(masking.onStatement(selectContacts, ctx)).toBeUndefined();
    const plan = masking.onResult(result(selectContacts, contactColumns), ctx)!;
    expect(row.map((v, i) => plan.columns.get(i)?.(v) ?? v)).toEqual(['1', 'a***@example.com', '****']);
  });

  it('follows views over views', async () => {
    const masking = await loadMasking(BASE_OPTIONS, new Map([[ViewResolverCapability.name, catalog()]]));
    const s = stmt('SELECT m FROM contacts2', { reads: [{ name: 'contacts2' }], outputs: [out([{ table: 'contacts2', column: 'm' }], { direct: true })] });
    const plan = masking.onResult(result(s, [col('m', 'text', { table: 'contacts2', column: 'm' })]), context());
    expect(plan?.columns.get(0)?.('bob@example.org')).toBe('b***@example.org');
  });

  it('treats a relation the catalog does not know as unresolved (refuse by default)', async () => {
    const masking = await loadMasking(BASE_OPTIONS, new Map([[ViewResolverCapability.name, catalog()]]));
    const s = stmt('SELECT * FROM mystery', { reads: [{ name: 'mystery' }], outputs: [out([{ table: 'mystery', column: '*' }], { expands: true })] });
    expect(masking.onStatement(s, context())).toMatchObject({ action: 'deny', error: { code: 'QG_MASKING_UNRESOLVED', message: expect.stringMatching(/catalog does not know mystery/) as unknown } });
    const lenient = await loadMasking({ ...BASE_OPTIONS, unknownRelations: 'table' }, new Map([[ViewResolverCapability.name, catalog()]]));
    expect(lenient.onStatement(s, context())).toBeUndefined();
  });

  it('lets name rules see inside whole rows when the catalog lists table columns', async () => {
    const masking = await loadMasking({ rules: [{ names: ['*ssn*'] }] }, new Map([[ViewResolverCapability.name, catalog()]]));
    const s = stmt('SELECT row_to_json(u) FROM users u', { reads: [{ name: 'users' }], outputs: [out([{ table: 'users', column: '*' }])] });
    expect(masking.onResult(result(s, [col('row_to_json', 'json')]), context())?.columns.get(0)?.('{}')).toBe('"****"');
  });

  it('does not reuse plans across catalog versions', async () => {
    const resolver = catalog();
    const masking = await loadMasking(BASE_OPTIONS, new Map([[ViewResolverCapability.name, resolver]]));
    const first = masking.onResult(result(selectContacts, contactColumns), context(session()));
    resolver.version = 2;
    expect(masking.onResult(result(selectContacts, contactColumns), context(session()))).not.toBe(first);
  });
});

describe('views declared in options', () => {
  it('masks a view column that feeds from a sensitive column, with the derived strategy', async () => {
    const masking = await loadMasking({
      ...BASE_OPTIONS, views: { 'public.contacts': { id: 'users.id', mail: ['public.users.email'], tag: ['users.name', 'users.ssn'] } },
    });
    const plan = masking.onResult(result(selectContacts, contactColumns), context())!;
    expect(row.map((v, i) => plan.columns.get(i)?.(v) ?? v)).toEqual(['1', '****', '****']);
    // A column the declaration leaves out may be fed by any declared source: masked.
    const partial = await loadMasking({ ...BASE_OPTIONS, views: { contacts: { mail: ['public.users.email'] } } });
    expect(partial.onResult(result(selectContacts, contactColumns), context())?.covers).toEqual(['id', 'mail', 'tag']);
  });

  it('without any resolver, relations are tables: rules must name view columns (or use name patterns)', async () => {
    const masking = await loadMasking(BASE_OPTIONS);
    expect(masking.onStatement(selectContacts, context())).toBeUndefined();
    expect(masking.onResult(result(selectContacts, contactColumns), context())).toBeUndefined();
    const named = await loadMasking({ ...BASE_OPTIONS, rules: [...BASE_OPTIONS.rules, { columns: ['public.contacts.mail'], strategy: 'email' }] });
    expect(named.onResult(result(selectContacts, contactColumns), context())?.covers).toEqual(['mail']);
  });
});
