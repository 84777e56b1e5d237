//! The shapes of a convolution and of a transposed convolution, PyTorch's layouts: x
//! `[N, C, H, W]`, weight `[K, C, R, S]`, y `[N, K, P, Q]`, bias `[K]`; a transposed
//! convolution's weight is `[C_in, C_out, R, S]`. Each shape checks itself (`validate`) and
//! names what is impossible about it.

/// The shape of a 2-D convolution (groups = 1): input `[n, c, h, w]`, weight `[k, c, r, s]`,
/// output `[n, k, p(), q()]`. `stride`, `pad` and `dilation` are (along H, along W).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Conv2dSpec {
    pub n: usize,
    pub c: usize,
    pub h: usize,
    pub w: usize,
    pub k: usize,
    pub r: usize,
    pub s: usize,
    pub stride: (usize, usize),
    pub pad: (usize, usize),
    pub dilation: (usize, usize),
}

/// Output length along one axis, or `None` when the dilated kernel is larger than the padded
/// input: `(len + 2*pad - dil*(taps-1) - 1) / stride + 1`.
fn conv_out_len(len: usize, taps: usize, stride: usize, pad: usize, dil: usize) -> Option<usize> {
    let span = dil * (taps - 1) + 1;
    let padded = len + 2 * pad;
    (padded >= span).then(|| (padded - span) / stride + 1)
}

impl Conv2dSpec {
    /// Output height.
    pub fn p(&self) -> usize {
        self.validate();
        conv_out_len(self.h, self.r, self.stride.0, self.pad.0, self.dilation.0).unwrap()
    }

    /// Output width.
    pub fn q(&self) -> usize {
        self.validate();
        conv_out_len(self.w, self.s, self.stride.1, self.pad.1, self.dilation.1).unwrap()
    }

    pub fn x_len(&self) -> usize {
        self.n * self.c * self.h * self.w
    }

    pub fn w_len(&self) -> usize {
        self.k * self.c * self.r * self.s
    }

    pub fn y_len(&self) -> usize {
        self.n * self.k * self.p() * self.q()
    }

    fn describe(&self) -> String {
        format!(
            "x [N, C, H, W] = [{}, {}, {}, {}], weight [K, C, R, S] = [{}, {}, {}, {}], stride {:?}, pad {:?}, dilation {:?}",
            self.n,
            self.c,
            self.h,
            self.w,
            self.k,
            self.c,
            self.r,
            self.s,
            self.stride,
            self.pad,
            self.dilation
        )
    }

    /// Panics, naming the shapes, when no convolution has this shape: a zero size, stride or
    /// dilation, a dilated kernel larger than the padded input, or sizes past the kernels'
    /// 32-bit indexing.
    pub fn validate(&self) {
        let fail =
            |why: &str| -> ! { panic!("conv2d: impossible shape {}: {why}", self.describe()) };
        let dims = [self.n, self.c, self.h, self.w, self.k, self.r, self.s];
        if dims.contains(&0) {
            fail("every size must be at least 1");
        }
        if self.stride.0 == 0 || self.stride.1 == 0 || self.dilation.0 == 0 || self.dilation.1 == 0
        {
            fail("stride and dilation must be at least 1");
        }
        let p = conv_out_len(self.h, self.r, self.stride.0, self.pad.0, self.dilation.0);
        let q = conv_out_len(self.w, self.s, self.stride.1, self.pad.1, self.dilation.1);
        let (Some(p), Some(q)) = (p, q) else {
            fail(&format!(
                "the dilated kernel {}x{} is larger than the padded input {}x{}",
                self.dilation.0 * (self.r - 1) + 1,
                self.dilation.1 * (self.s - 1) + 1,
                self.h + 2 * self.pad.0,
                self.w + 2 * self.pad.1
            ));
        };
        let largest = [
            self.x_len(),
            self.w_len(),
            self.n * self.k * p * q,
            self.h + 2 * self.pad.0,
        ]
        .into_iter()
        .max()
        .unwrap();
        if largest >= i32::MAX as usize {
            fail("a tensor has 2^31 or more elements");
        }
    }
}

/// The shape of a transposed 2-D convolution (groups = 1), PyTorch's `ConvTranspose2d`:
/// input `[n, c_in, h_in, w_in]`, weight `[c_in, c_out, r, s]`, output
/// `[n, c_out, h_out(), w_out()]` with `h_out = (h_in-1)*stride - 2*pad + dil*(r-1) + output_padding + 1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ConvTranspose2dSpec {
    pub n: usize,
    pub c_in: usize,
    pub h_in: usize,
    pub w_in: usize,
    pub c_out: usize,
    pub r: usize,
    pub s: usize,
    pub stride: (usize, usize),
    pub pad: (usize, usize),
    pub output_padding: (usize, usize),
    pub dilation: (usize, usize),
}

/// `(len-1)*stride - 2*pad + dil*(taps-1) + output_padding + 1`, or `None` when not positive.
fn transposed_out_len(
    len: usize,
    taps: usize,
    stride: usize,
    pad: usize,
    out_pad: usize,
    dil: usize,
) -> Option<usize> {
    let full = (len - 1) * stride + dil * (taps - 1) + out_pad + 1;
    (full > 2 * pad).then(|| full - 2 * pad)
}

impl ConvTranspose2dSpec {
    /// Output height.
    pub fn h_out(&self) -> usize {
        self.validate();
        transposed_out_len(
            self.h_in,
            self.r,
            self.stride.0,
            self.pad.0,
            self.output_padding.0,
            self.dilation.0,
        )
        .unwrap()
    }

    /// Output width.
    pub fn w_out(&self) -> usize {
        self.validate();
        transposed_out_len(
            self.w_in,
            self.s,
            self.stride.1,
            self.pad.1,
            self.output_padding.1,
            self.dilation.1,
        )
        .unwrap()
    }

    pub fn x_len(&self) -> usize {
        self.n * self.c_in * self.h_in * self.w_in
    }

    pub fn w_len(&self) -> usize {
        self.c_in * self.c_out * self.r * self.s
    }

    pub fn y_len(&self) -> usize {
        self.n * self.c_out * self.h_out() * self.w_out()
    }

    /// The convolution whose backward-data this transposed convolution is: its input is our
    /// output (`c = c_out`, `h = h_out`), its output our input (`k = c_in`, `p = h_in`), and the
    /// weight `[c_in, c_out, r, s]` is its `[k, c, r, s]` unchanged. output_padding survives
    /// only as the extra rows and columns of `h_out` and `w_out`.
    pub fn as_conv(&self) -> Conv2dSpec {
        Conv2dSpec {
            n: self.n,
            c: self.c_out,
            h: self.h_out(),
            w: self.w_out(),
            k: self.c_in,
            r: self.r,
            s: self.s,
            stride: self.stride,
            pad: self.pad,
            dilation: self.dilation,
        }
    }

    /// Panics, naming the shapes, when no transposed convolution has this shape. output_padding
    /// must be smaller than the stride (PyTorch also accepts it below the dilation; atelier does
    /// not, because then the convolution of `as_conv` would not map h_out back to h_in).
    pub fn validate(&self) {
        let fail = |why: &str| -> ! {
            panic!(
                "conv_transpose2d: impossible shape x [N, C_in, H, W] = [{}, {}, {}, {}], weight [C_in, C_out, R, S] = [{}, {}, {}, {}], stride {:?}, pad {:?}, output_padding {:?}, dilation {:?}: {why}",
                self.n,
                self.c_in,
                self.h_in,
                self.w_in,
                self.c_in,
                self.c_out,
                self.r,
                self.s,
                self.stride,
                self.pad,
                self.output_padding,
                self.dilation
            )
        };
        let dims = [
            self.n, self.c_in, self.h_in, self.w_in, self.c_out, self.r, self.s,
        ];
        if dims.contains(&0) {
            fail("every size must be at least 1");
        }
        if self.stride.0 == 0 || self.stride.1 == 0 || self.dilation.0 == 0 || self.dilation.1 == 0
        {
            fail("stride and dilation must be at least 1");
        }
        if self.output_padding.0 >= self.stride.0 || self.output_padding.1 >= self.stride.1 {
            fail("output_padding must be smaller than the stride");
        }
        let h = transposed_out_len(
            self.h_in,
            self.r,
            self.stride.0,
            self.pad.0,
            self.output_padding.0,
            self.dilation.0,
        );
        let w = transposed_out_len(
            self.w_in,
            self.s,
            self.stride.1,
            self.pad.1,
            self.output_padding.1,
            self.dilation.1,
        );
        let (Some(h), Some(w)) = (h, w) else {
            fail("the padding removes the whole output");
        };
        let conv = Conv2dSpec {
            n: self.n,
            c: self.c_out,
            h,
            w,
            k: self.c_in,
            r: self.r,
            s: self.s,
            stride: self.stride,
            pad: self.pad,
            dilation: self.dilation,
        };
        conv.validate();
        debug_assert_eq!(
            (conv.p(), conv.q()),
            (self.h_in, self.w_in),
            "as_conv maps the output back to the input"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> Conv2dSpec {
        Conv2dSpec {
            n: 2,
            c: 3,
            h: 7,
            w: 9,
            k: 4,
            r: 3,
            s: 2,
            stride: (2, 1),
            pad: (1, 0),
            dilation: (1, 2),
        }
    }

    #[test]
    fn output_size_follows_pytorch() {
        let s = spec();
        assert_eq!((s.p(), s.q()), ((7 + 2 - 2 - 1) / 2 + 1, (9 - 2 - 1) + 1));
    }

    #[test]
    #[should_panic(expected = "larger than the padded input")]
    fn impossible_shape_names_it() {
        Conv2dSpec {
            h: 2,
            r: 5,
            ..spec()
        }
        .validate();
    }

    #[test]
    fn transposed_conv_maps_back() {
        let t = ConvTranspose2dSpec {
            n: 1,
            c_in: 3,
            h_in: 5,
            w_in: 4,
            c_out: 2,
            r: 3,
            s: 3,
            stride: (2, 3),
            pad: (1, 1),
            output_padding: (1, 2),
            dilation: (1, 1),
        };
        assert_eq!(
            (t.h_out(), t.w_out()),
            (4 * 2 - 2 + 2 + 1 + 1, 3 * 3 - 2 + 2 + 2 + 1)
        );
        let c = t.as_conv();
        assert_eq!((c.p(), c.q(), c.k, c.c), (5, 4, 3, 2));
    }

    #[test]
    #[should_panic(expected = "output_padding must be smaller than the stride")]
    fn output_padding_below_stride() {
        ConvTranspose2dSpec {
            n: 1,
            c_in: 1,
            h_in: 3,
            w_in: 3,
            c_out: 1,
            r: 3,
            s: 3,
            stride: (1, 1),
            pad: (0, 0),
            output_padding: (1, 0),
            dilation: (2, 2),
        }
        .validate();
    }
}
