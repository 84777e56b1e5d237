//! The layers of the FID Inception network (pytorch-fid's `fid_inception_v3`, up to the final
//! average pool), by their PyTorch state_dict names: every BasicConv2d (a bias-free
//! convolution, BatchNorm with eps 1e-3, ReLU) with its sizes, and the order of the blocks.

/// One BasicConv2d: `NAME.conv.weight [cout, cin, kh, kw]` and `NAME.bn.{weight, bias,
/// running_mean, running_var} [cout]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConvSpec {
    pub name: String,
    pub cin: usize,
    pub cout: usize,
    pub kernel: (usize, usize),
    pub stride: usize,
    pub padding: (usize, usize),
}

impl ConvSpec {
    /// Its state_dict keys with their shapes.
    pub fn keys(&self) -> Vec<(String, Vec<usize>)> {
        let n = &self.name;
        let c = self.cout;
        vec![
            (
                format!("{n}.conv.weight"),
                vec![c, self.cin, self.kernel.0, self.kernel.1],
            ),
            (format!("{n}.bn.weight"), vec![c]),
            (format!("{n}.bn.bias"), vec![c]),
            (format!("{n}.bn.running_mean"), vec![c]),
            (format!("{n}.bn.running_var"), vec![c]),
        ]
    }
}

/// The mixed blocks (torchvision's InceptionA–E as patched by pytorch-fid).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockKind {
    /// 1×1, 5×5, double 3×3, and a 3×3 average pool (padding not counted) then 1×1.
    A { pool_features: usize },
    /// Stride-2 3×3, double 3×3 ending in stride 2, and a stride-2 3×3 max pool.
    B,
    /// 1×1, 1×7/7×1 factorised 7×7, double 7×7, and an average pool then 1×1.
    C { channels_7x7: usize },
    /// Stride-2 3×3 after 1×1, a 7×7 then stride-2 3×3, and a stride-2 max pool.
    D,
    /// 1×1, split 1×3/3×1 branches, and a pool then 1×1: an average pool (padding not
    /// counted) in Mixed_7b, a max pool in Mixed_7c (pytorch-fid's FIDInceptionE_2).
    E { max_pool: bool },
}

/// The mixed blocks in order, with their input channels.
pub const BLOCKS: [(&str, usize, BlockKind); 11] = [
    ("Mixed_5b", 192, BlockKind::A { pool_features: 32 }),
    ("Mixed_5c", 256, BlockKind::A { pool_features: 64 }),
    ("Mixed_5d", 288, BlockKind::A { pool_features: 64 }),
    ("Mixed_6a", 288, BlockKind::B),
    ("Mixed_6b", 768, BlockKind::C { channels_7x7: 128 }),
    ("Mixed_6c", 768, BlockKind::C { channels_7x7: 160 }),
    ("Mixed_6d", 768, BlockKind::C { channels_7x7: 160 }),
    ("Mixed_6e", 768, BlockKind::C { channels_7x7: 192 }),
    ("Mixed_7a", 768, BlockKind::D),
    ("Mixed_7b", 1280, BlockKind::E { max_pool: false }),
    ("Mixed_7c", 2048, BlockKind::E { max_pool: true }),
];

/// Index in [`BLOCKS`] of the first block of pytorch-fid's output block 3 (Mixed_7a).
pub const FIRST_OF_BLOCK3: usize = 8;

fn conv(
    name: String,
    cin: usize,
    cout: usize,
    kernel: (usize, usize),
    stride: usize,
    padding: (usize, usize),
) -> ConvSpec {
    ConvSpec {
        name,
        cin,
        cout,
        kernel,
        stride,
        padding,
    }
}

/// The stem: pytorch-fid's block 0 (three convolutions, then a max pool) and block 1 (two,
/// then a max pool).
pub fn stem() -> Vec<ConvSpec> {
    let c = |n: &str, cin, cout, k, s, p| conv(n.into(), cin, cout, (k, k), s, (p, p));
    vec![
        c("Conv2d_1a_3x3", 3, 32, 3, 2, 0),
        c("Conv2d_2a_3x3", 32, 32, 3, 1, 0),
        c("Conv2d_2b_3x3", 32, 64, 3, 1, 1),
        c("Conv2d_3b_1x1", 64, 80, 1, 1, 0),
        c("Conv2d_4a_3x3", 80, 192, 3, 1, 0),
    ]
}

/// The convolutions of one mixed block (torchvision's sizes).
pub fn block(prefix: &str, cin: usize, kind: BlockKind) -> Vec<ConvSpec> {
    let c = |n: &str, cin, cout, k: (usize, usize), s, p: (usize, usize)| {
        conv(format!("{prefix}.{n}"), cin, cout, k, s, p)
    };
    let (k1, k3, k5) = ((1, 1), (3, 3), (5, 5));
    let (k17, k71, k13, k31) = ((1, 7), (7, 1), (1, 3), (3, 1));
    let p0 = (0, 0);
    match kind {
        BlockKind::A { pool_features } => vec![
            c("branch1x1", cin, 64, k1, 1, p0),
            c("branch5x5_1", cin, 48, k1, 1, p0),
            c("branch5x5_2", 48, 64, k5, 1, (2, 2)),
            c("branch3x3dbl_1", cin, 64, k1, 1, p0),
            c("branch3x3dbl_2", 64, 96, k3, 1, (1, 1)),
            c("branch3x3dbl_3", 96, 96, k3, 1, (1, 1)),
            c("branch_pool", cin, pool_features, k1, 1, p0),
        ],
        BlockKind::B => vec![
            c("branch3x3", cin, 384, k3, 2, p0),
            c("branch3x3dbl_1", cin, 64, k1, 1, p0),
            c("branch3x3dbl_2", 64, 96, k3, 1, (1, 1)),
            c("branch3x3dbl_3", 96, 96, k3, 2, p0),
        ],
        BlockKind::C { channels_7x7: c7 } => vec![
            c("branch1x1", cin, 192, k1, 1, p0),
            c("branch7x7_1", cin, c7, k1, 1, p0),
            c("branch7x7_2", c7, c7, k17, 1, (0, 3)),
            c("branch7x7_3", c7, 192, k71, 1, (3, 0)),
            c("branch7x7dbl_1", cin, c7, k1, 1, p0),
            c("branch7x7dbl_2", c7, c7, k71, 1, (3, 0)),
            c("branch7x7dbl_3", c7, c7, k17, 1, (0, 3)),
            c("branch7x7dbl_4", c7, c7, k71, 1, (3, 0)),
            c("branch7x7dbl_5", c7, 192, k17, 1, (0, 3)),
            c("branch_pool", cin, 192, k1, 1, p0),
        ],
        BlockKind::D => vec![
            c("branch3x3_1", cin, 192, k1, 1, p0),
            c("branch3x3_2", 192, 320, k3, 2, p0),
            c("branch7x7x3_1", cin, 192, k1, 1, p0),
            c("branch7x7x3_2", 192, 192, k17, 1, (0, 3)),
            c("branch7x7x3_3", 192, 192, k71, 1, (3, 0)),
            c("branch7x7x3_4", 192, 192, k3, 2, p0),
        ],
        BlockKind::E { .. } => vec![
            c("branch1x1", cin, 320, k1, 1, p0),
            c("branch3x3_1", cin, 384, k1, 1, p0),
            c("branch3x3_2a", 384, 384, k13, 1, (0, 1)),
            c("branch3x3_2b", 384, 384, k31, 1, (1, 0)),
            c("branch3x3dbl_1", cin, 448, k1, 1, p0),
            c("branch3x3dbl_2", 448, 384, k3, 1, (1, 1)),
            c("branch3x3dbl_3a", 384, 384, k13, 1, (0, 1)),
            c("branch3x3dbl_3b", 384, 384, k31, 1, (1, 0)),
            c("branch_pool", cin, 192, k1, 1, p0),
        ],
    }
}

/// Every convolution of the network, stem first.
pub fn all_convs() -> Vec<ConvSpec> {
    let mut all = stem();
    for (name, cin, kind) in BLOCKS {
        all.extend(block(name, cin, kind));
    }
    all
}

/// Every state_dict key the features need, with its shape (the weights file also holds
/// `fc.*`, which the features do not use).
pub fn expected_keys() -> Vec<(String, Vec<usize>)> {
    all_convs().iter().flat_map(ConvSpec::keys).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_network_has_inceptions_94_convolutions_and_the_blocks_chain() {
        assert_eq!(all_convs().len(), 94);
        // each block's output channels are the next block's input
        let out = |cin: usize, kind: BlockKind| -> usize {
            match kind {
                BlockKind::A { pool_features } => 64 + 64 + 96 + pool_features,
                BlockKind::B => 384 + 96 + cin,
                BlockKind::C { .. } => 4 * 192,
                BlockKind::D => 320 + 192 + cin,
                BlockKind::E { .. } => 320 + 768 + 768 + 192,
            }
        };
        for w in BLOCKS.windows(2) {
            assert_eq!(out(w[0].1, w[0].2), w[1].1, "{} → {}", w[0].0, w[1].0);
        }
        assert_eq!(out(2048, BLOCKS[10].2), 2048);
    }
}
