//! The layer list a model is described by, and the builder that turns it into ONNX nodes and
//! initializers. A layer names its parameters by their PyTorch state_dict prefix (`main.0`,
//! `conv1.conv2d`, `in1`); the builder takes their values from [`Weights`] and their sizes
//! (kernel, channels) from the weights' shapes, so a description holds only what the weights
//! cannot say (strides, padding, eps).

use std::collections::HashSet;

use crate::error::{ExportError, Result};
use crate::proto::{AttributeProto, AttributeType, DataType, NodeProto, TensorProto};

/// One step of a model, applied to the output of the previous one.
#[derive(Clone, Debug, PartialEq)]
pub enum Layer {
    /// `name.weight` `[K, C, R, S]` (and `name.bias` `[K]` when `bias`); zero padding.
    Conv {
        name: String,
        stride: usize,
        padding: usize,
        bias: bool,
    },
    /// `name.weight` `[C_in, C_out, R, S]` (and `name.bias`).
    ConvTranspose {
        name: String,
        stride: usize,
        padding: usize,
        output_padding: usize,
        bias: bool,
    },
    /// Inference-mode batch normalisation from `name.weight`, `.bias`, `.running_mean`,
    /// `.running_var`.
    BatchNorm {
        name: String,
        eps: f32,
    },
    /// Instance normalisation; with `affine` its `NAME.weight` and `NAME.bias`, else scale 1
    /// and shift 0 (PyTorch's `affine=False`, CycleGAN's default).
    InstanceNorm {
        affine: Option<String>,
        eps: f32,
    },
    /// Reflection padding of every side by this many pixels.
    ReflectionPad(usize),
    /// Nearest-neighbour upsampling by an integer factor (PyTorch's `interpolate(mode="nearest")`).
    UpsampleNearest(usize),
    Relu,
    LeakyRelu(f32),
    Tanh,
    Sigmoid,
    /// `x + f(x)`, f being these layers.
    Residual(Vec<Layer>),
}

impl Layer {
    pub fn conv(name: impl Into<String>, stride: usize, padding: usize, bias: bool) -> Layer {
        Layer::Conv {
            name: name.into(),
            stride,
            padding,
            bias,
        }
    }

    pub fn conv_transpose(
        name: impl Into<String>,
        stride: usize,
        padding: usize,
        output_padding: usize,
        bias: bool,
    ) -> Layer {
        Layer::ConvTranspose {
            name: name.into(),
            stride,
            padding,
            output_padding,
            bias,
        }
    }

    pub fn batch_norm(name: impl Into<String>) -> Layer {
        Layer::BatchNorm {
            name: name.into(),
            eps: 1e-5,
        }
    }

    /// `InstanceNorm2d(affine=True)` with PyTorch's eps.
    pub fn instance_norm(name: impl Into<String>) -> Layer {
        Layer::InstanceNorm {
            affine: Some(name.into()),
            eps: 1e-5,
        }
    }
}

/// Where parameter values come from: `name` → (shape, values).
pub trait Weights {
    fn get(&self, name: &str) -> Result<(Vec<usize>, Vec<f32>)>;
}

/// Nodes and initializers being built.
pub(crate) struct Builder<'w> {
    weights: &'w dyn Weights,
    pub nodes: Vec<NodeProto>,
    pub initializers: Vec<TensorProto>,
    have: HashSet<String>,
    /// Channels of the current value, once a weight has told.
    channels: Option<usize>,
}

fn ints(name: &str, v: &[i64]) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: AttributeType::Ints as i32,
        ints: v.to_vec(),
        ..Default::default()
    }
}

fn int(name: &str, v: i64) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: AttributeType::Int as i32,
        i: v,
        ..Default::default()
    }
}

fn float(name: &str, v: f32) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: AttributeType::Float as i32,
        f: v,
        ..Default::default()
    }
}

fn string(name: &str, v: &str) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: AttributeType::String as i32,
        s: v.as_bytes().to_vec(),
        ..Default::default()
    }
}

pub(crate) fn float_tensor(name: &str, shape: &[usize], values: &[f32]) -> TensorProto {
    TensorProto {
        dims: shape.iter().map(|&d| d as i64).collect(),
        data_type: DataType::Float as i32,
        name: name.into(),
        raw_data: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
    }
}

fn int64_tensor(name: &str, values: &[i64]) -> TensorProto {
    TensorProto {
        dims: vec![values.len() as i64],
        data_type: DataType::Int64 as i32,
        name: name.into(),
        raw_data: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
    }
}

impl<'w> Builder<'w> {
    pub fn new(weights: &'w dyn Weights, input_channels: usize) -> Builder<'w> {
        Builder {
            weights,
            nodes: Vec::new(),
            initializers: Vec::new(),
            have: HashSet::new(),
            channels: Some(input_channels),
        }
    }

    /// Adds a node; its output is named after the node.
    fn node(&mut self, op: &str, inputs: &[&str], attribute: Vec<AttributeProto>) -> String {
        let name = format!("/{}_{op}", self.nodes.len());
        let output = format!("{name}_output");
        self.nodes.push(NodeProto {
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: vec![output.clone()],
            name,
            op_type: op.into(),
            attribute,
            domain: String::new(),
        });
        output
    }

    /// Adds the parameter `name` as an initializer (once) and returns its shape.
    fn weight(&mut self, name: &str, rank: usize) -> Result<Vec<usize>> {
        let (shape, values) = self.weights.get(name)?;
        if shape.len() != rank {
            return Err(ExportError::Shape {
                name: name.into(),
                shape,
                expected: format!("{rank} dimensions"),
            });
        }
        if self.have.insert(name.to_string()) {
            self.initializers.push(float_tensor(name, &shape, &values));
        }
        Ok(shape)
    }

    fn check_channels(&self, name: &str, shape: &[usize], got: usize) -> Result<()> {
        match self.channels {
            Some(c) if c != got => Err(ExportError::Shape {
                name: name.into(),
                shape: shape.to_vec(),
                expected: format!("{c} input channels (the previous layer's output)"),
            }),
            _ => Ok(()),
        }
    }

    /// Appends `layer` to value `x`; returns the new value.
    pub fn layer(&mut self, x: &str, layer: &Layer) -> Result<String> {
        Ok(match layer {
            Layer::Conv {
                name,
                stride,
                padding,
                bias,
            } => {
                let w = format!("{name}.weight");
                let shape = self.weight(&w, 4)?;
                self.check_channels(&w, &shape, shape[1])?;
                let mut inputs = vec![x.to_string(), w];
                if *bias {
                    let b = format!("{name}.bias");
                    self.weight(&b, 1)?;
                    inputs.push(b);
                }
                self.channels = Some(shape[0]);
                let (s, p) = (*stride as i64, *padding as i64);
                let inputs: Vec<&str> = inputs.iter().map(String::as_str).collect();
                self.node(
                    "Conv",
                    &inputs,
                    vec![
                        ints("kernel_shape", &[shape[2] as i64, shape[3] as i64]),
                        ints("strides", &[s, s]),
                        ints("pads", &[p, p, p, p]),
                        ints("dilations", &[1, 1]),
                        int("group", 1),
                    ],
                )
            }
            Layer::ConvTranspose {
                name,
                stride,
                padding,
                output_padding,
                bias,
            } => {
                let w = format!("{name}.weight");
                let shape = self.weight(&w, 4)?;
                self.check_channels(&w, &shape, shape[0])?;
                let mut inputs = vec![x.to_string(), w];
                if *bias {
                    let b = format!("{name}.bias");
                    self.weight(&b, 1)?;
                    inputs.push(b);
                }
                self.channels = Some(shape[1]);
                let (s, p, o) = (*stride as i64, *padding as i64, *output_padding as i64);
                let inputs: Vec<&str> = inputs.iter().map(String::as_str).collect();
                self.node(
                    "ConvTranspose",
                    &inputs,
                    vec![
                        ints("kernel_shape", &[shape[2] as i64, shape[3] as i64]),
                        ints("strides", &[s, s]),
                        ints("pads", &[p, p, p, p]),
                        ints("output_padding", &[o, o]),
                        ints("dilations", &[1, 1]),
                        int("group", 1),
                    ],
                )
            }
            Layer::BatchNorm { name, eps } => {
                let keys = ["weight", "bias", "running_mean", "running_var"]
                    .map(|k| format!("{name}.{k}"));
                for k in &keys {
                    let shape = self.weight(k, 1)?;
                    self.check_channels(k, &shape, shape[0])?;
                }
                let mut inputs = vec![x];
                inputs.extend(keys.iter().map(String::as_str));
                self.node(
                    "BatchNormalization",
                    &inputs,
                    vec![float("epsilon", *eps), float("momentum", 0.9)],
                )
            }
            Layer::InstanceNorm { affine, eps } => {
                let (scale, shift) = match affine {
                    Some(name) => {
                        let keys = [format!("{name}.weight"), format!("{name}.bias")];
                        for k in &keys {
                            let shape = self.weight(k, 1)?;
                            self.check_channels(k, &shape, shape[0])?;
                        }
                        let [a, b] = keys;
                        (a, b)
                    }
                    None => {
                        let c = self.channels.ok_or(ExportError::Description(
                            "InstanceNorm without weights needs a layer with weights before it"
                                .into(),
                        ))?;
                        let n = self.nodes.len();
                        let (a, b) = (
                            format!("/{n}_instance_norm.ones"),
                            format!("/{n}_instance_norm.zeros"),
                        );
                        self.initializers
                            .push(float_tensor(&a, &[c], &vec![1.0; c]));
                        self.initializers
                            .push(float_tensor(&b, &[c], &vec![0.0; c]));
                        (a, b)
                    }
                };
                self.node(
                    "InstanceNormalization",
                    &[x, &scale, &shift],
                    vec![float("epsilon", *eps)],
                )
            }
            Layer::ReflectionPad(p) => {
                let pads = format!("/{}_reflection_pad.pads", self.nodes.len());
                let p = *p as i64;
                self.initializers
                    .push(int64_tensor(&pads, &[0, 0, p, p, 0, 0, p, p]));
                self.node("Pad", &[x, &pads], vec![string("mode", "reflect")])
            }
            Layer::UpsampleNearest(factor) => {
                let scales = format!("/{}_upsample.scales", self.nodes.len());
                let f = *factor as f32;
                self.initializers
                    .push(float_tensor(&scales, &[4], &[1.0, 1.0, f, f]));
                self.node(
                    "Resize",
                    &[x, "", &scales],
                    vec![
                        string("mode", "nearest"),
                        string("coordinate_transformation_mode", "asymmetric"),
                        string("nearest_mode", "floor"),
                    ],
                )
            }
            Layer::Relu => self.node("Relu", &[x], vec![]),
            Layer::LeakyRelu(alpha) => self.node("LeakyRelu", &[x], vec![float("alpha", *alpha)]),
            Layer::Tanh => self.node("Tanh", &[x], vec![]),
            Layer::Sigmoid => self.node("Sigmoid", &[x], vec![]),
            Layer::Residual(layers) => {
                let mut y = x.to_string();
                for l in layers {
                    y = self.layer(&y, l)?;
                }
                self.node("Add", &[x, &y], vec![])
            }
        })
    }
}
