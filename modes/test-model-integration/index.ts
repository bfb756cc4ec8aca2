import { convertInputs } from '../../src/inputs/convert-inputs.js';
import { ExitCode } from '../../src/errors.js';
import { makeGrayTestImage } from '../../src/inputs/image.js';
import { inferAndCheck } from '../../src/result/infer-and-report.js';
import { plural } from '../../src/plural.js';
import { mustBeGiven } from '../../src/inputs/schema.js';
import { setOwn } from '../../src/inputs/safe-record.js';
import type { InputSpec, InputsSchema, ModeContext } from '../../src/types.js';
import { resultBytes, writeResult } from '../../src/result/write-result.js';

/**
 * MODE=test_model_integration: the Python library's self-test, strict. Runs the model several
 * times on its gray test image (other required inputs get a valid sample), checks every result,
 * and exits 0 only when every run succeeded and every check passed.
 */
export async function run(context: ModeContext): Promise<number> {
  const { log, settings } = context;
  const grayImage = await makeGrayTestImage();
  const inputs = await convertInputs(context.schema, sampleInputs(context.schema, grayImage), { origin: 'data', maxDepth: context.settings.maxInputDepth });
  log.info(`Self-test: ${plural(settings.selfTestRuns, 'inference')} on a 600x400 gray JPEG (${plural(grayImage.length, 'byte')}).`);
  for (const [name, value] of Object.entries(inputs)) log.info(`  input ${name} = ${describeSample(value)}`);

  let passed = 0;
  for (let run = 1; run <= settings.selfTestRuns; run++) {
    // A streamed result's every chunk is checked by the engine (one that fails ends the stream
    // as the failure, reported below); each is listed here as it comes.
    const label = `run ${run}/${settings.selfTestRuns}`;
    let chunks = 0;
    const { result, report, milliseconds } = await inferAndCheck(context, inputs, (chunk) => {
      chunks++;
      log.info(`  ${label} chunk ${chunks}: ${chunk['content-type']}, ${plural(resultBytes(chunk).length, 'byte')} ✓`);
    });
    if (report.ok) {
      passed++;
      log.info(`✓ ${label}: ${report.summary}${chunks > 0 ? `, streamed in ${plural(chunks, 'checked chunk')}` : ''} (${milliseconds.toFixed(1)} ms)`);
      if (passed === 1) writeResult(result, report, context.stdout, log);
    } else {
      for (const problem of report.problems) log.info(`✗ ${label}: ${problem}`);
    }
  }
  if (passed === settings.selfTestRuns) {
    log.info(`Self-test passed: ${passed}/${plural(settings.selfTestRuns, 'inference')} succeeded and every check passed.`);
    return ExitCode.success;
  }
  log.info(`Self-test FAILED: ${settings.selfTestRuns - passed} of ${plural(settings.selfTestRuns, 'inference')} failed a check.`);
  return ExitCode.modelFailed;
}

/**
 * The gray image for each image input; for the others the schema's `example` (what the author
 * chose to show the model at work), else, for an input the caller must give, a valid value: the
 * lower bound, the first choice. Inputs with a default get it from the conversion.
 */
function sampleInputs(schema: InputsSchema, grayImage: Buffer): Record<string, unknown> {
  const samples: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(schema)) {
    if (spec.type === 'image') setOwn(samples, name, grayImage);
    else if (spec.example !== undefined) setOwn(samples, name, spec.example);
    else if (mustBeGiven(spec)) setOwn(samples, name, sampleFor(spec, grayImage));
  }
  return samples;
}

function sampleFor(spec: InputSpec, grayImage: Buffer): unknown {
  switch (spec.type) {
    case 'image':
    case 'file':
      return grayImage;
    case 'text':
      return 'ai-integration self-test';
    case 'number':
    case 'integer':
      return spec.min ?? Math.min(0, spec.max ?? 0);
    case 'boolean':
      return false;
    case 'choice':
      return spec.choices[0];
    case 'json':
      return {};
  }
}

function describeSample(value: unknown): string {
  if (Buffer.isBuffer(value)) return plural(value.length, 'byte');
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
