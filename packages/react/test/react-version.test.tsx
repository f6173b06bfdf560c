import { version } from 'react';
import { version as domVersion } from 'react-dom';
import { describe, expect, it } from 'vitest';

/** Tells the two runs apart in the output, and proves the React 18 run really runs React 18. */
describe('React version under test', () => {
  it(`is ${version}, with a matching react-dom`, () => {
    expect(domVersion).toBe(version);
    const expected = process.env.LIVEDASH_EXPECT_REACT;
    if (expected !== undefined) expect(version.split('.')[0]).toBe(expected);
  });
});
