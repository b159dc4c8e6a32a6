import plugin, { MaskingInterceptor } from '../src';
import { BASE_OPTIONS, BYPASS_CASES, col, context, loadMasking, orders, out, readsOrders, result, stmt } from './fixtures';

describe('the plugin', () => {
  it('is the default export, named masking, and registers one interceptor', async () => {
    expect(plugin.name).toBe('masking');
    const masking = await loadMasking(BASE_OPTIONS);
    expect(masking).toBeInstanceOf(MaskingInterceptor);
    expect(masking.name).toBe('masking');
    await masking.shutdown();
    await masking.shutdown();
  });

  it('decides once per statement shape: later results are one cache lookup', async () => {
    const masking = await loadMasking(BASE_OPTIONS);
    const plan = jest.spyOn(masking.policy, 'plan');
    const assess = jest.spyOn(masking.policy, 'assess');
    const s = stmt('SELECT id, total FROM orders WHERE id = $1', {
      reads: readsOrders, outputs: [out([orders('id')], { direct: true }), out([orders('total')], { direct: true })],
    });
    const columns = [col('id', 'int4', orders('id')), col('total', 'numeric', orders('total'))];
    const ctx = context();
    const rs = result(s, columns);
    let planned = 0;
    for (let i = 0; i < 20_000; i++) {
      if (masking.onStatement(s, ctx) !== undefined) planned++;
      if (masking.onResult(rs, ctx) !== undefined) planned++;
    }
    expect(planned).toBe(0);
    expect(plan).toHaveBeenCalledTimes(1);
    expect(assess).toHaveBeenCalledTimes(1);
    // Speed belongs to bench/, not to a timed unit test: the call counts above prove one decision per shape.
  });

  it('labels plans and says which columns they cover', async () => {
    const masking = await loadMasking(BASE_OPTIONS);
    const c = BYPASS_CASES.find((x) => x.name.startsWith('t.*'))!;
    const plan = masking.onResult(result(c.statement, c.columns), context())!;
    expect(plan.label).toBe('masking');
    expect(plan.covers).toEqual(['e', 'email', 'ssn']);
  });

  it('bounds its caches', async () => {
    const masking = await loadMasking({ ...BASE_OPTIONS, cacheSize: 10 });
    const ctx = context();
    for (let i = 0; i < 100; i++) {
      const s = stmt(`SELECT ${i}`, { outputs: [out([])] });
      masking.onStatement(s, ctx);
      masking.onResult(result(s, [col('?column?', 'int4')]), ctx);
    }
    const sizes = masking as unknown as { plans: { size: number }; assessments: { size: number } };
    expect(sizes.plans.size).toBeLessThanOrEqual(10);
    expect(sizes.assessments.size).toBeLessThanOrEqual(10);
  });
});
