//! The elementwise op tables: one row per op, everything about it in one place. From a row
//! come the op's enum variant and name, its WGSL (spliced into `elementwise.wgsl`'s `switch`
//! as `unary_op` / `unary_derivative` / `binary_op`), its CPU reference (computed in f64),
//! the inputs its validation draws, and its PyTorch equivalent for the benchmark
//! side-by-side. Adding an op is adding a row (and, if wanted, a `Tensor` method that calls
//! `Tensor::unary`).
//!
//! In the WGSL and the CPU formulas, `v` is the input and `a` the op's scalar (`alpha`: a
//! slope, an exponent, the scalar of add_scalar); a binary op sees `l` and `r`. The WGSL
//! helpers (`stable_tanh`, `tanh_derivative`, `stable_sigmoid`, `sigmoid_derivative`,
//! `softplus`, `power`) are in `elementwise.wgsl`.

macro_rules! unary_ops {
    ($(
        $(#[$doc:meta])*
        $variant:ident = $code:literal, $name:literal,
        wgsl: $wgsl:literal, derivative: $wgsl_d:literal,
        cpu: $cpu:expr, derivative: $cpu_d:expr,
        torch: $torch:literal,
        inputs: $lo:literal .. $hi:literal, alpha: $alpha:literal;
    )*) => {
        /// Pointwise functions of one input (see the table in `ops.rs`).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[repr(u32)]
        pub enum UnaryOp {
            $($(#[$doc])* $variant = $code,)*
        }

        impl UnaryOp {
            pub const ALL: &[UnaryOp] = &[$(UnaryOp::$variant),*];

            pub fn name(self) -> &'static str {
                match self { $(UnaryOp::$variant => $name,)* }
            }

            /// The op code `elementwise.wgsl` switches on (the `OP` pipeline constant).
            pub fn code(self) -> u32 {
                self as u32
            }

            /// f(v; a), in f64: the CPU reference.
            pub fn cpu(self) -> fn(f64, f64) -> f64 {
                match self { $(UnaryOp::$variant => $cpu,)* }
            }

            /// f'(v; a), in f64.
            pub fn cpu_derivative(self) -> fn(f64, f64) -> f64 {
                match self { $(UnaryOp::$variant => $cpu_d,)* }
            }

            /// The PyTorch expression of the op on a tensor `x` (with `a` the scalar).
            pub fn torch(self) -> &'static str {
                match self { $(UnaryOp::$variant => $torch,)* }
            }

            /// Where validation draws inputs from (inside the op's domain).
            pub fn domain(self) -> (f32, f32) {
                match self { $(UnaryOp::$variant => ($lo, $hi),)* }
            }

            /// The scalar validation uses.
            pub fn sample_alpha(self) -> f32 {
                match self { $(UnaryOp::$variant => $alpha,)* }
            }
        }

        /// `unary_op(v, a)` and `unary_derivative(v, a)` in WGSL, switching on `OP`.
        pub const UNARY_WGSL: &str = concat!(
            "// generated from the op table in ops.rs\n",
            "fn unary_op(v: f32, a: f32) -> f32 {\n    switch OP {\n",
            $("        case ", stringify!($code), "u: { return ", $wgsl, "; }\n",)*
            "        default: { return 0.0; }\n    }\n}\n",
            "fn unary_derivative(v: f32, a: f32) -> f32 {\n    switch OP {\n",
            $("        case ", stringify!($code), "u: { return ", $wgsl_d, "; }\n",)*
            "        default: { return 0.0; }\n    }\n}\n",
        );
    };
}

macro_rules! binary_ops {
    ($(
        $(#[$doc:meta])*
        $variant:ident = $code:literal, $name:literal,
        wgsl: $wgsl:literal, cpu: $cpu:expr, torch: $torch:literal;
    )*) => {
        /// Pointwise functions of two inputs (see the table in `ops.rs`).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[repr(u32)]
        pub enum BinaryOp {
            $($(#[$doc])* $variant = $code,)*
        }

        impl BinaryOp {
            pub const ALL: &[BinaryOp] = &[$(BinaryOp::$variant),*];

            pub fn name(self) -> &'static str {
                match self { $(BinaryOp::$variant => $name,)* }
            }

            /// The op code `elementwise.wgsl` switches on (the `OP` pipeline constant).
            pub fn code(self) -> u32 {
                self as u32
            }

            /// l op r, in f64: the CPU reference.
            pub fn cpu(self) -> fn(f64, f64) -> f64 {
                match self { $(BinaryOp::$variant => $cpu,)* }
            }

            /// The PyTorch expression of the op on tensors `a` and `b`.
            pub fn torch(self) -> &'static str {
                match self { $(BinaryOp::$variant => $torch,)* }
            }
        }

        /// `binary_op(l, r)` in WGSL, switching on `OP`.
        pub const BINARY_WGSL: &str = concat!(
            "// generated from the op table in ops.rs\n",
            "fn binary_op(l: f32, r: f32) -> f32 {\n    switch OP {\n",
            $("        case ", stringify!($code), "u: { return ", $wgsl, "; }\n",)*
            "        default: { return 0.0; }\n    }\n}\n",
        );
    };
}

fn flag(b: bool) -> f64 {
    if b { 1.0 } else { 0.0 }
}

fn sigmoid(v: f64) -> f64 {
    1.0 / (1.0 + (-v).exp())
}

/// x^a; for negative x only integer exponents are defined.
fn power(v: f64, a: f64) -> f64 {
    // `square` is `pow(x, 2)`: a product is the same correctly rounded value, and libm's pow
    // costs ~20 ns an element on the CPU devices
    if a == 2.0 { v * v } else { v.powf(a) }
}

unary_ops! {
    Neg = 0, "neg",
        wgsl: "-v", derivative: "-1.0",
        cpu: |v, _| -v, derivative: |_, _| -1.0,
        torch: "torch.neg(x)", inputs: -6.0..6.0, alpha: 0.0;
    Exp = 1, "exp",
        wgsl: "exp(v)", derivative: "exp(v)",
        cpu: |v, _| v.exp(), derivative: |v, _| v.exp(),
        torch: "torch.exp(x)", inputs: -4.0..4.0, alpha: 0.0;
    Log = 2, "log",
        wgsl: "log(v)", derivative: "1.0 / v",
        cpu: |v, _| v.ln(), derivative: |v, _| 1.0 / v,
        torch: "torch.log(x)", inputs: 0.1..3.0, alpha: 0.0;
    Sqrt = 3, "sqrt",
        wgsl: "sqrt(v)", derivative: "0.5 / sqrt(v)",
        cpu: |v, _| v.sqrt(), derivative: |v, _| 0.5 / v.sqrt(),
        torch: "torch.sqrt(x)", inputs: 0.1..3.0, alpha: 0.0;
    /// Its derivative at 0 is 0, as WGSL's `sign`.
    Abs = 4, "abs",
        wgsl: "abs(v)", derivative: "sign(v)",
        cpu: |v, _| v.abs(), derivative: |v, _| if v == 0.0 { 0.0 } else { v.signum() },
        torch: "torch.abs(x)", inputs: -6.0..6.0, alpha: 0.0;
    Relu = 5, "relu",
        wgsl: "max(v, 0.0)", derivative: "select(0.0, 1.0, v > 0.0)",
        cpu: |v, _| v.max(0.0), derivative: |v, _| flag(v > 0.0),
        torch: "torch.relu(x)", inputs: -6.0..6.0, alpha: 0.0;
    /// `a` is the slope below zero.
    LeakyRelu = 6, "leaky_relu",
        wgsl: "select(a * v, v, v > 0.0)", derivative: "select(a, 1.0, v > 0.0)",
        cpu: |v, a| if v > 0.0 { v } else { a * v }, derivative: |v, a| if v > 0.0 { 1.0 } else { a },
        torch: "F.leaky_relu(x, a)", inputs: -6.0..6.0, alpha: 0.2;
    Tanh = 7, "tanh",
        wgsl: "stable_tanh(v)", derivative: "tanh_derivative(v)",
        cpu: |v, _| v.tanh(), derivative: |v, _| 1.0 - v.tanh() * v.tanh(),
        torch: "torch.tanh(x)", inputs: -6.0..6.0, alpha: 0.0;
    Sigmoid = 8, "sigmoid",
        wgsl: "stable_sigmoid(v)", derivative: "sigmoid_derivative(v)",
        cpu: |v, _| sigmoid(v), derivative: |v, _| sigmoid(v) * (1.0 - sigmoid(v)),
        torch: "torch.sigmoid(x)", inputs: -6.0..6.0, alpha: 0.0;
    /// log(1 + e^v), without overflow.
    Softplus = 9, "softplus",
        wgsl: "softplus(v)", derivative: "stable_sigmoid(v)",
        cpu: |v, _| v.max(0.0) + (-v.abs()).exp().ln_1p(), derivative: |v, _| sigmoid(v),
        torch: "F.softplus(x)", inputs: -6.0..6.0, alpha: 0.0;
    /// v^a (for negative v only integer exponents are defined).
    Pow = 10, "pow",
        wgsl: "power(v, a)", derivative: "a * power(v, a - 1.0)",
        cpu: power, derivative: |v, a| a * power(v, a - 1.0),
        torch: "torch.pow(x, a)", inputs: 0.1..3.0, alpha: 2.5;
    AddScalar = 11, "add_scalar",
        wgsl: "v + a", derivative: "1.0",
        cpu: |v, a| v + a, derivative: |_, _| 1.0,
        torch: "x + a", inputs: -6.0..6.0, alpha: 0.75;
    MulScalar = 12, "mul_scalar",
        wgsl: "v * a", derivative: "a",
        cpu: |v, a| v * a, derivative: |_, a| a,
        torch: "x * a", inputs: -6.0..6.0, alpha: -1.5;
}

binary_ops! {
    Add = 0, "add", wgsl: "l + r", cpu: |l, r| l + r, torch: "torch.add(a, b)";
    Sub = 1, "sub", wgsl: "l - r", cpu: |l, r| l - r, torch: "torch.sub(a, b)";
    Mul = 2, "mul", wgsl: "l * r", cpu: |l, r| l * r, torch: "torch.mul(a, b)";
    Div = 3, "div", wgsl: "l / r", cpu: |l, r| l / r, torch: "torch.div(a, b)";
    Max = 4, "max", wgsl: "max(l, r)", cpu: f64::max, torch: "torch.maximum(a, b)";
    Min = 5, "min", wgsl: "min(l, r)", cpu: f64::min, torch: "torch.minimum(a, b)";
    /// 1.0 where equal, else 0.0.
    Eq = 6, "eq", wgsl: "select(0.0, 1.0, l == r)", cpu: |l, r| flag(l == r), torch: "torch.eq(a, b)";
    /// 1.0 where l > r, else 0.0.
    Gt = 7, "gt", wgsl: "select(0.0, 1.0, l > r)", cpu: |l, r| flag(l > r), torch: "torch.gt(a, b)";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_and_every_op_has_its_wgsl_case() {
        for (i, op) in UnaryOp::ALL.iter().enumerate() {
            assert_eq!(
                op.code() as usize,
                i,
                "{} has code {}",
                op.name(),
                op.code()
            );
            assert!(UNARY_WGSL.contains(&format!("case {}u:", op.code())));
        }
        for (i, op) in BinaryOp::ALL.iter().enumerate() {
            assert_eq!(op.code() as usize, i);
            assert!(BINARY_WGSL.contains(&format!("case {}u:", op.code())));
        }
    }

    #[test]
    fn derivatives_match_finite_differences() {
        for &op in UnaryOp::ALL {
            let (lo, hi) = op.domain();
            let a = op.sample_alpha() as f64;
            // away from the kinks at 0 (relu, abs, leaky_relu)
            for t in [0.13, 0.37, 0.91] {
                let v = lo as f64 + t * (hi - lo) as f64;
                let h = 1e-6;
                let f = op.cpu();
                let numeric = (f(v + h, a) - f(v - h, a)) / (2.0 * h);
                let analytic = (op.cpu_derivative())(v, a);
                assert!(
                    (numeric - analytic).abs() < 1e-5 * (1.0 + analytic.abs()),
                    "{} at {v}: {analytic} vs {numeric}",
                    op.name()
                );
            }
        }
    }
}
