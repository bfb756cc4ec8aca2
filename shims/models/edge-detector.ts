/**
 * Writes the example ONNX model, an edge detector with fixed weights: two 3x3 Sobel filters in
 * one convolution, then the gradient magnitude sqrt(gx² + gy²). Run by `npm run build`; writes
 * edge-detector.onnx beside itself.
 */
import { writeFileSync } from 'node:fs';
import { DataType, onnxModel } from './onnx-writer.js';

const sobelX = [-1, 0, 1, -2, 0, 2, -1, 0, 1];
const sobelY = [-1, -2, -1, 0, 0, 0, 1, 2, 1];

const model = onnxModel(
  {
    name: 'sobel_edges',
    inputs: [{ name: 'gray', dataType: DataType.float, shape: [1, 1, 'height', 'width'] }],
    outputs: [{ name: 'edges', dataType: DataType.float, shape: [1, 1, 'height', 'width'] }],
    initializers: [
      { name: 'sobel', dataType: DataType.float, dims: [2, 1, 3, 3], values: [...sobelX, ...sobelY] },
      { name: 'channel_axis', dataType: DataType.int64, dims: [1], values: [1] },
    ],
    nodes: [
      { opType: 'Conv', inputs: ['gray', 'sobel'], outputs: ['gradients'], attributes: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } },
      { opType: 'Mul', inputs: ['gradients', 'gradients'], outputs: ['squared'] },
      { opType: 'ReduceSum', inputs: ['squared', 'channel_axis'], outputs: ['sum'], attributes: { keepdims: 1 } },
      { opType: 'Sqrt', inputs: ['sum'], outputs: ['edges'] },
    ],
  },
  13, // ReduceSum takes its axes as an input from opset 13
);

const target = new URL('./edge-detector.onnx', import.meta.url);
writeFileSync(target, model);
console.log(`wrote ${target.pathname} (${model.length} bytes)`);
