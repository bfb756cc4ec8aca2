// Pickles written by this machine's CPython: every expression in every protocol asked for, in one
// python3 call (a python3 start costs more than all the pickling).
import { execFileSync } from 'node:child_process';

const script = `
import base64, collections, json, pickle, sys
request = json.load(sys.stdin)
json.dump({expression: [base64.b64encode(pickle.dumps(eval(expression), protocol=protocol)).decode('ascii') for protocol in request['protocols']] for expression in request['expressions']}, sys.stdout)
`;

/**
 * CPython's pickle of each Python expression (`collections` is imported) in each protocol.
 * @example pythonPickles(['[1, 2]'], [0, 5]).get('[1, 2]', 5)
 */
export function pythonPickles(expressions: readonly string[], protocols: readonly number[]): { get(expression: string, protocol: number): Buffer } {
  const output = execFileSync('python3', ['-c', script], { input: JSON.stringify({ expressions, protocols }) });
  const pickles = JSON.parse(output.toString('utf8')) as Record<string, string[]>;
  return {
    get(expression, protocol) {
      const encoded = pickles[expression]?.[protocols.indexOf(protocol)];
      if (encoded === undefined) throw new Error(`no pickle of ${expression} in protocol ${protocol} was asked for`);
      return Buffer.from(encoded, 'base64');
    },
  };
}
