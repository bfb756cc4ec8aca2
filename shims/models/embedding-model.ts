/**
 * Writes the example embedding model as ONNX: hashed word counts [batch, featureCount] times a
 * fixed projection (projected-embedding.ts), then each row scaled to length 1 (a row of zeros,
 * a text with no words, stays zeros: its length is taken as at least 1e-12). Run by
 * `npm run build`; writes embedding.onnx beside itself.
 */
import { writeFileSync } from 'node:fs';
import { DataType, onnxModel } from './onnx-writer.js';
import { embeddingSize, featureCount, projectionMatrix } from './projected-embedding.js';

const model = onnxModel(
  {
    name: 'projected_hashed_embedding',
    inputs: [{ name: 'features', dataType: DataType.float, shape: ['batch', featureCount] }],
    outputs: [{ name: 'embedding', dataType: DataType.float, shape: ['batch', embeddingSize] }],
    initializers: [
      { name: 'projection', dataType: DataType.float, dims: [featureCount, embeddingSize], values: projectionMatrix() },
      { name: 'row_axis', dataType: DataType.int64, dims: [1], values: [1] },
      { name: 'smallest_length', dataType: DataType.float, dims: [1], values: [1e-12] },
    ],
    nodes: [
      { opType: 'MatMul', inputs: ['features', 'projection'], outputs: ['projected'] },
      { opType: 'Mul', inputs: ['projected', 'projected'], outputs: ['squared'] },
      { opType: 'ReduceSum', inputs: ['squared', 'row_axis'], outputs: ['sum'], attributes: { keepdims: 1 } },
      { opType: 'Sqrt', inputs: ['sum'], outputs: ['length'] },
      { opType: 'Max', inputs: ['length', 'smallest_length'], outputs: ['divisor'] },
      { opType: 'Div', inputs: ['projected', 'divisor'], outputs: ['embedding'] },
    ],
  },
  13, // ReduceSum takes its axes as an input from opset 13
);

const target = new URL('./embedding.onnx', import.meta.url);
writeFileSync(target, model);
console.log(`wrote ${target.pathname} (${model.length} bytes)`);
