import { followRoutine, type ObjectRef, type RoutineBody, type RoutineInfo, type RoutineSource, type Statement } from '../src';

function stmt(reads: string[], functions: string[] = [], risky = false): Statement {
  return {
    text: '', kind: 'select', command: 'select', fingerprint: '', normalized: '',
    reads: reads.map((name) => ({ name })), writes: [], functions, risks: new Set(risky ? ['dynamicSql'] : []),
    lineage: { outputs: [], complete: true },
  };
}

function source(bodies: Record<string, RoutineBody[]>): RoutineSource & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    bodies: (name) => { asked.push(name); return bodies[name] ?? []; },
    followable: (s) => !s.risks.has('dynamicSql'),
  };
}

const names = (info: RoutineInfo | undefined): string[] | undefined => info?.reads.map((r: ObjectRef) => r.name).sort();

describe('followRoutine', () => {
  test('follows calls, support functions and extra reads; a built-in is no routine', () => {
    const src = source({
      outer: [{ statements: [stmt(['orders'], ['inner', 'lower'])], calls: ['support'] }],
      inner: [{ statements: [stmt(['users'])] }],
      support: [{ statements: [], reads: [{ name: 'audit' }] }],
    });
    expect(names(followRoutine('outer', src, new Map()))).toEqual(['audit', 'orders', 'users']);
    expect(followRoutine('lower', src, new Map())).toBeUndefined();
  });

  test('an unreadable body or a statement it cannot see through makes the walk incomplete, up the chain', () => {
    const src = source({
      a: [{ statements: [stmt([], ['b'])] }],
      b: [{ statements: undefined }],
      c: [{ statements: [stmt(['users'], [], true)] }],
    });
    expect(followRoutine('a', src, new Map())).toEqual({ reads: [], complete: false });
    expect(followRoutine('c', src, new Map())).toEqual({ reads: [{ name: 'users' }], complete: false });
  });

  test('a cycle is cut where it closes; only whole walks are cached', () => {
    const src = source({
      f: [{ statements: [stmt(['t1'], ['g'])] }],
      g: [{ statements: [stmt(['t2'], ['f'])] }],
    });
    const cache = new Map<string, RoutineInfo>();
    expect(followRoutine('f', src, cache)).toEqual({ reads: [{ name: 't1' }, { name: 't2' }], complete: true });
    expect([...cache.keys()]).toEqual(['f']);
    // g's own walk is not the partial one seen from f.
    expect(names(followRoutine('g', src, cache))).toEqual(['t1', 't2']);
    src.asked.length = 0;
    followRoutine('f', src, cache);
    expect(src.asked).toEqual([]);
  });

  test('chains deeper than 8 routines count as not followed', () => {
    const bodies: Record<string, RoutineBody[]> = {};
    for (let i = 0; i < 12; i++) bodies[`r${i}`] = [{ statements: [stmt([`t${i}`], [`r${i + 1}`])] }];
    const info = followRoutine('r0', source(bodies), new Map());
    expect(info?.complete).toBe(false);
    expect(names(info)).toEqual(['t0', 't1', 't2', 't3', 't4', 't5', 't6', 't7']);
  });

  test('names and read keys go through the source\'s own folding', () => {
    const src: RoutineSource = {
      bodies: (name) => (name === 'peek' ? [{ statements: [stmt(['Users', 'users'], ['PEEK'])] }] : []),
      followable: () => true,
      calledName: (fn) => fn.toLowerCase(),
      readKey: (r) => r.name.toLowerCase(),
    };
    expect(followRoutine('PEEK', src, new Map())).toEqual({ reads: [{ name: 'users' }], complete: true });
  });
});
