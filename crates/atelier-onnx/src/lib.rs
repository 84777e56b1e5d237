//! atelier-onnx: ONNX export of atelier's generators, for deployment with any ONNX runtime
//! (as pytorch/examples' `--export_onnx` does for its models).
//!
//! A network is described as a list of [`Layer`]s that name their parameters by PyTorch's
//! state_dict keys ([`models`]); [`export`] turns a description and the weights of a
//! checkpoint into a `ModelProto` (opset 17, IR version 8) whose initializers carry those
//! same names and whose batch (and, for fully convolutional nets, height and width) are
//! dynamic. [`detect`] reads a checkpoint and picks the description its metadata (or, for a
//! bare state_dict, its keys) names: a DCGAN run's generator, a TransformerNet, a CycleGAN
//! run's G_A or G_B ([`detect_in`] picks which), or one ResnetGenerator state_dict such as
//! pytorch-CycleGAN-and-pix2pix's `latest_net_G.pth`.

pub mod error;
pub mod layers;
pub mod models;
pub mod proto;

use std::path::Path;

use atelier_cyclegan::GeneratorConfig;
use atelier_cyclegan::apply::Direction;
use atelier_cyclegan::model::{ResnetGenerator, state_dict_of};
use atelier_nn::Checkpoint;
use prost::Message;

pub use error::{ExportError, Result};
pub use layers::{Layer, Weights};

use layers::Builder;
use proto::tensor_shape_proto::{Dimension, dimension};
use proto::{
    DataType, GraphProto, ModelProto, OperatorSetIdProto, StringStringEntryProto, TensorShapeProto,
    TypeProto, ValueInfoProto, type_proto,
};

/// The opset the graphs are written for (every op used has its current definition there).
pub const OPSET: i64 = 17;
/// The IR version that goes with opset 17.
pub const IR_VERSION: i64 = 8;

/// One dimension of a graph input or output.
#[derive(Clone, Debug, PartialEq)]
pub enum Dim {
    Fixed(usize),
    /// Dynamic, with this name.
    Param(String),
}

impl Dim {
    pub fn batch() -> Dim {
        Dim::Param("batch".into())
    }

    pub fn param(name: &str) -> Dim {
        Dim::Param(name.into())
    }
}

/// A network to export: its layers and its input and output (name, NCHW dims).
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    pub name: String,
    pub doc: String,
    pub input: (String, [Dim; 4]),
    pub output: (String, [Dim; 4]),
    pub layers: Vec<Layer>,
}

/// The parameters under `prefix.` in a checkpoint (the initializers drop the prefix).
pub struct CheckpointWeights {
    pub checkpoint: Checkpoint,
    pub prefix: String,
}

impl Weights for CheckpointWeights {
    fn get(&self, name: &str) -> Result<(Vec<usize>, Vec<f32>)> {
        let key = if self.prefix.is_empty() {
            name.to_string()
        } else {
            format!("{}.{name}", self.prefix)
        };
        Ok((
            self.checkpoint.shape(&key)?.to_vec(),
            self.checkpoint.values(&key)?,
        ))
    }
}

fn value_info(name: &str, dims: &[Dim; 4]) -> ValueInfoProto {
    let dim = dims
        .iter()
        .map(|d| Dimension {
            value: Some(match d {
                Dim::Fixed(n) => dimension::Value::DimValue(*n as i64),
                Dim::Param(p) => dimension::Value::DimParam(p.clone()),
            }),
        })
        .collect();
    ValueInfoProto {
        name: name.into(),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: DataType::Float as i32,
                shape: Some(TensorShapeProto { dim }),
            })),
        }),
        doc_string: String::new(),
    }
}

/// The ONNX model of `model` with parameters from `weights`; `metadata` goes into its
/// `metadata_props`.
pub fn export(
    model: &Model,
    weights: &dyn Weights,
    metadata: &[(&str, String)],
) -> Result<ModelProto> {
    let (input, in_dims) = &model.input;
    let channels = match in_dims[1] {
        Dim::Fixed(c) => c,
        Dim::Param(_) => {
            return Err(ExportError::Description(
                "the input's channel dimension must be fixed".into(),
            ));
        }
    };
    let mut b = Builder::new(weights, channels);
    let mut x = input.clone();
    for layer in &model.layers {
        x = b.layer(&x, layer)?;
    }
    // the last node writes the graph's output under its declared name
    let (output, out_dims) = &model.output;
    let last = b
        .nodes
        .last_mut()
        .ok_or_else(|| ExportError::Description("no layers".into()))?;
    last.output = vec![output.clone()];
    Ok(ModelProto {
        ir_version: IR_VERSION,
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: OPSET,
        }],
        producer_name: "atelier".into(),
        producer_version: env!("CARGO_PKG_VERSION").into(),
        domain: String::new(),
        model_version: 1,
        doc_string: model.doc.clone(),
        graph: Some(GraphProto {
            node: b.nodes,
            name: model.name.clone(),
            initializer: b.initializers,
            doc_string: String::new(),
            input: vec![value_info(input, in_dims)],
            output: vec![value_info(output, out_dims)],
        }),
        metadata_props: metadata
            .iter()
            .map(|(k, v)| StringStringEntryProto {
                key: k.to_string(),
                value: v.clone(),
            })
            .collect(),
    })
}

/// What a checkpoint holds, as far as export is concerned.
pub enum Detected {
    /// A DCGAN run's checkpoint: its generator.
    Dcgan(atelier_gan::model::DcganConfig),
    TransformerNet,
    /// A CycleGAN ResnetGenerator: G_A or G_B of a CycleGAN run's checkpoint (`direction`), or
    /// the one generator of a bare state_dict (`direction` is `None`).
    CycleGan {
        direction: Option<Direction>,
        config: GeneratorConfig,
    },
}

/// The TransformerNet's architecture tag in its safetensors metadata (atelier-style writes it).
pub const TRANSFORMER_NET_ARCHITECTURE: &str = "pytorch/examples fast_neural_style TransformerNet";

/// Reads `path` and picks the model its metadata names: (description, weights, what). A
/// CycleGAN checkpoint gives its G_A (see [`detect_in`]).
pub fn detect(path: &Path) -> Result<(Model, CheckpointWeights, Detected)> {
    detect_in(path, Direction::AtoB)
}

/// As [`detect`], with the generator of a CycleGAN checkpoint `direction` picks: G_A for
/// AtoB, G_B for BtoA (a file that holds one generator, or another model, ignores it).
pub fn detect_in(
    path: &Path,
    direction: Direction,
) -> Result<(Model, CheckpointWeights, Detected)> {
    let ck = Checkpoint::load(path)?;
    let shown = path.display().to_string();
    let cyclegan = ck.metadata("format") == Some(atelier_nn::kind::CYCLEGAN)
        || ck.keys().any(|k| k.starts_with("netG_A."));
    if cyclegan || ck.contains("model.1.weight") {
        let direction = cyclegan.then_some(direction);
        let net = direction.map(Direction::net);
        let prefix = net.unwrap_or_default();
        let source = match net {
            Some(net) => format!("{shown} ({net})"),
            None => shown.clone(),
        };
        // every key and shape checked against the architecture its keys describe
        let sd = state_dict_of(&ck, prefix);
        let config =
            ResnetGenerator::from_state_dict(&sd, &source, atelier_tensor::Device::Cpu)?.config;
        let weights = CheckpointWeights {
            checkpoint: ck,
            prefix: prefix.into(),
        };
        let model = models::cyclegan::resnet_generator(&config);
        return Ok((model, weights, Detected::CycleGan { direction, config }));
    }
    if ck.metadata("format") == Some(atelier_gan::trainer::checkpoint::FORMAT) {
        let run = atelier_gan::trainer::checkpoint::config_of(&ck, path).map_err(|e| {
            ExportError::NotAModel {
                path: shown.clone(),
                message: e.to_string(),
            }
        })?;
        let model = models::dcgan::generator(&run.model);
        // G's moving average when the run kept one (what `gan sample` draws with), else G
        let ema = atelier_gan::trainer::checkpoint::NET_G_EMA;
        let prefix = if atelier_gan::trainer::checkpoint::has_module(&ck, ema) {
            ema
        } else {
            atelier_gan::trainer::checkpoint::NET_G
        };
        let weights = CheckpointWeights {
            checkpoint: ck,
            prefix: prefix.into(),
        };
        return Ok((model, weights, Detected::Dcgan(run.model)));
    }
    if ck.metadata("atelier.architecture") == Some(TRANSFORMER_NET_ARCHITECTURE)
        || ck.contains("conv1.conv2d.weight") && ck.contains("res5.in2.weight")
    {
        let weights = CheckpointWeights {
            checkpoint: ck,
            prefix: String::new(),
        };
        return Ok((
            models::transformer_net::transformer_net(),
            weights,
            Detected::TransformerNet,
        ));
    }
    Err(ExportError::NotAModel {
        path: shown,
        message: "neither a DCGAN checkpoint (atelier gan train), a TransformerNet \
                  (atelier style train), a CycleGAN checkpoint (atelier cyclegan train) nor a \
                  ResnetGenerator state_dict (model.1.weight, ...): its metadata and keys name \
                  no model atelier can export"
            .into(),
    })
}

/// Writes `model` to `path` (a temporary file of this process, synced, then renamed).
pub fn save(model: &ModelProto, path: &Path) -> Result<()> {
    atelier_fs::write_atomic(path, &model.encode_to_vec()).map_err(|e| ExportError::Write {
        path: path.display().to_string(),
        source: e.into_io(),
    })
}
