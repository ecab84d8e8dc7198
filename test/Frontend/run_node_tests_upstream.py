#!/usr/bin/env python3
"""Checks the importer's semantics without qcc's codegen: imports ONNX backend
node tests with `qcc --emit=mlir`, lowers the module with upstream MLIR passes
only (one-shot-bufferize, linalg-to-loops, ... to LLVM), runs it with
mlir-runner and compares every output with the test's expected output.

Usage: run_node_tests_upstream.py [TEST_NAME ...]   (default: all node tests)
Environment: QCC (default: qcc on PATH), LLVM_BIN (default /usr/lib/llvm-22/bin),
EXPANDED=1 to include the *_expanded tests. Prints one line per failing test
(IMPORT failures for unsupported ops are counted, not printed) and a summary.
Needs the qcc flag --const-input=NAME=FILE for tests with shape-like inputs.
"""
import os, re, subprocess, sys, glob, tempfile
import numpy as np, onnx
from onnx import numpy_helper as nh
QCC = os.environ.get('QCC', 'qcc')
B = os.environ.get('LLVM_BIN', '/usr/lib/llvm-22/bin') + '/'
LIB = os.path.normpath(B + '../lib') + '/'
NODE = os.path.join(os.path.dirname(onnx.__file__), 'backend/test/data/node')
CONST_RE = re.compile(r"\('([^']*)'\) must be a compile-time constant")
PIPE = ('--one-shot-bufferize=bufferize-function-boundaries '
        '--convert-linalg-to-loops --expand-strided-metadata --lower-affine --convert-scf-to-cf '
        ' --convert-math-to-llvm --convert-math-to-libm '
        '--convert-arith-to-llvm --convert-index-to-llvm --finalize-memref-to-llvm '
        '--convert-func-to-llvm --convert-cf-to-llvm --reconcile-unrealized-casts').split()

def mlir_type(a):
    m = {np.float32:'f32', np.float64:'f64', np.float16:'f16', np.int8:'i8', np.uint8:'i8',
         np.int16:'i16', np.uint16:'i16', np.int32:'i32', np.uint32:'i32', np.int64:'i64',
         np.uint64:'i64', np.bool_:'i1'}
    return m[a.dtype.type]

def ttype(shape, et):
    return 'tensor<' + ''.join(f'{d}x' for d in shape) + et + '>'

def dense(a):
    et = mlir_type(a)
    if et == 'i1':
        def rec(x):
            if x.ndim == 0: return 'true' if x else 'false'
            return '[' + ','.join(rec(y) for y in x) + ']'
        return f'dense<{rec(a)}>'
    if a.size == 0:
        return 'dense<>' if False else f'dense<[]>'
    return 'dense<"0x' + np.ascontiguousarray(a).tobytes().hex().upper() + '">'

def run(test):
    d = os.path.join(NODE, test)
    model = onnx.load(os.path.join(d, 'model.onnx'))
    inits = {i.name for i in model.graph.initializer}
    ins = [i.name for i in model.graph.input if i.name not in inits]
    ds = os.path.join(d, 'test_data_set_0')
    consts = {}
    while True:
        cmd = [QCC, os.path.join(d, 'model.onnx'), '--emit=mlir', '-o', '-'] + [f'--const-input={k}={v}' for k, v in consts.items()]
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode == 0: break
        m = CONST_RE.search(p.stderr)
        if not m or m.group(1) not in ins or m.group(1) in consts:
            return 'IMPORT', p.stderr.strip()
        consts[m.group(1)] = os.path.join(ds, f'input_{ins.index(m.group(1))}.pb')
    mod = p.stdout
    inputs = []
    for k, n in enumerate(ins):
        if n in consts: continue
        t = onnx.TensorProto(); t.ParseFromString(open(os.path.join(ds, f'input_{k}.pb'), 'rb').read())
        inputs.append(nh.to_array(t))
    outs = []
    for k in range(len(model.graph.output)):
        t = onnx.TensorProto(); t.ParseFromString(open(os.path.join(ds, f'output_{k}.pb'), 'rb').read())
        outs.append(nh.to_array(t))
    # parse result dtypes from func signature
    sig = re.search(r'func.func @main\((.*?)\) -> \((.*?)\) \{\n', mod, re.S)
    res_dt = re.findall(r'qcc.dtype = "(\w+)"', sig.group(2)) if sig else []
    res_ty = re.findall(r'(tensor<[^>]*>) \{', sig.group(2)) if sig else []
    lines = ['  func.func private @printMemrefF64(memref<*xf64>) attributes {llvm.emit_c_interface}',
             '  func.func @entry() {']
    args = []
    for k, a in enumerate(inputs):
        if a.size == 0:
            lines.append(f'    %in{k} = tensor.empty() : {ttype(a.shape, mlir_type(a))}')
        else:
            lines.append(f'    %in{k} = arith.constant {dense(a)} : {ttype(a.shape, mlir_type(a))}')
        args.append(f'%in{k}')
    argt = ', '.join(ttype(a.shape, mlir_type(a)) for a in inputs)
    lines.append(f'    %r:{len(res_ty)} = call @main({", ".join(args)}) : ({argt}) -> ({", ".join(res_ty)})' if len(res_ty) > 1 else
                 f'    %r = call @main({", ".join(args)}) : ({argt}) -> ({", ".join(res_ty)})')
    for k, (ty, dt) in enumerate(zip(res_ty, res_dt)):
        shape = ty[7:-1].split('x')[:-1]
        et = ty[7:-1].split('x')[-1]
        rv = f'%r#{k}' if len(res_ty) > 1 else '%r'
        rank = len(shape)
        dims = ', '.join(f'd{i}' for i in range(rank))
        fty = ttype([int(s) for s in shape], 'f64')
        if et == 'f64': conv = None
        elif et.startswith('f') or et == 'bf16': conv = f'arith.extf %a : {et} to f64'
        elif dt.startswith('uint') or dt == 'bool': conv = f'arith.uitofp %a : {et} to f64'
        else: conv = f'arith.sitofp %a : {et} to f64'
        iters = ", ".join(['"parallel"'] * rank)
        lines.append(f'    %e{k} = tensor.empty() : {fty}')
        if conv:
            lines.append(f'    %c{k} = linalg.generic {{indexing_maps = [affine_map<({dims}) -> ({dims})>, affine_map<({dims}) -> ({dims})>], iterator_types = [{iters}]}} ins({rv} : {ty}) outs(%e{k} : {fty}) {{\n    ^bb0(%a: {et}, %o: f64):\n      %v = {conv}\n      linalg.yield %v : f64\n    }} -> {fty}')
        else:
            lines.append(f'    %c{k} = linalg.copy ins({rv} : {ty}) outs(%e{k} : {fty}) -> {fty}')
        mty = 'memref<' + ''.join(f'{s}x' for s in shape) + 'f64>'
        lines.append(f'    %m{k} = bufferization.to_buffer %c{k} : {fty} to {mty}')
        lines.append(f'    %u{k} = memref.cast %m{k} : {mty} to memref<*xf64>')
        lines.append(f'    call @printMemrefF64(%u{k}) : (memref<*xf64>) -> ()')
    lines.append('    return\n  }')
    # insert before the last closing brace of the module
    idx = mod.rfind('}\n', 0, mod.find('{-#') if '{-#' in mod else len(mod))
    full = mod[:idx] + '\n'.join(lines) + '\n' + mod[idx:]
    with tempfile.NamedTemporaryFile('w', suffix='.mlir', delete=False, dir=tempfile.gettempdir()) as f:
        f.write(full); path = f.name
    p = subprocess.run([B + 'mlir-opt', path] + PIPE, capture_output=True, text=True)
    if p.returncode:
        return 'LOWER', p.stderr.strip()[:400] + ' @ ' + path
    p = subprocess.run([B + 'mlir-runner', '-e', 'entry', '-entry-point-result=void',
                        f'-shared-libs={LIB}libmlir_runner_utils.so,{LIB}libmlir_c_runner_utils.so'],
                       input=p.stdout, capture_output=True, text=True, timeout=120)
    if p.returncode:
        return 'RUN', p.stderr.strip()[:400] + ' @ ' + path
    os.unlink(path)
    blocks = p.stdout.split('Unranked Memref')[1:]
    if len(blocks) != len(outs):
        return 'RUN', 'output count'
    for k, (blk, exp) in enumerate(zip(blocks, outs)):
        data = blk.split('data =', 1)[1]
        vals = re.findall(r'-?nan|-?inf|-?[0-9.]+(?:e[-+]?[0-9]+)?', data)
        got = np.array([float(v) for v in vals], dtype=np.float64)
        e = exp.astype(np.float64).reshape(-1)
        if e.size == 0 and '0x' in res_ty[k] or e.size == 0 and ', 0' in blk.split('data')[0]:
            continue
        if got.size != e.size:
            return 'WRONG', f'out{k} size {got.size} vs {e.size}'
        rtol, atol = (1e-3, 1e-5) if exp.dtype != np.float16 else (1e-2, 1e-3)
        if not np.allclose(got, e, rtol=rtol, atol=atol, equal_nan=True):
            i = int(np.argmax(np.abs(got - e) - atol - rtol * np.abs(e)))
            return 'WRONG', f'out{k} max err at {i}: got {got[i]} want {e[i]}'
    return 'OK', ''

if __name__ == '__main__':
    tests = sys.argv[1:] or sorted(os.listdir(NODE))
    import collections
    stats = collections.Counter()
    for t in tests:
        if '_expanded' in t and not os.environ.get('EXPANDED'): continue
        try:
            st, msg = run(t)
        except Exception as ex:
            st, msg = 'HARNESS', repr(ex)[:200]
        stats[st] += 1
        if st != 'OK' and not (st == 'IMPORT' and 'unsupported' in msg):
            print(f'{st:8s} {t}: {msg}', flush=True)
    print(dict(stats))
