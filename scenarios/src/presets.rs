//! Built-in region delay matrices (`[network] matrix = "<name>"`): measured round-trip times
//! between cloud regions, stored as tables of RTT in ms and served as one-way delays (RTT / 2).
//!
//! Source: the fantoch project, github.com/vitorenesduarte/fantoch (MIT OR Apache-2.0):
//! `gcp2019` from its `latency_gcp` pings (one hour per pair, September 2019) and `aws2020` from
//! `latency_aws/2020_06_05` (June 2020). The values are the project's averages, transcribed
//! unchanged; a few GCP pairs differ by 1 ms between the two directions, as measured.

/// A named matrix: region names and round-trip times between them.
struct Preset {
    name: &'static str,
    regions: &'static [&'static str],
    rtt_ms: &'static [&'static [u16]],
}

const PRESETS: &[Preset] = &[
    Preset { name: "gcp2019", regions: GCP2019_REGIONS, rtt_ms: GCP2019_RTT_MS },
    Preset { name: "aws2020", regions: AWS2020_REGIONS, rtt_ms: AWS2020_RTT_MS },
];

/// Names accepted by `matrix = "<name>"`, in the order the documentation lists them.
pub fn names() -> &'static [&'static str] {
    &["gcp2019", "aws2020"]
}

/// The regions of a preset and its one-way delays in ms (`one_way_ms[i][j]` from region i to
/// region j), or None for an unknown name.
pub fn get(name: &str) -> Option<(Vec<String>, Vec<Vec<f64>>)> {
    let preset = PRESETS.iter().find(|p| p.name == name)?;
    let regions = preset.regions.iter().map(|r| r.to_string()).collect();
    let one_way_ms = preset.rtt_ms.iter().map(|row| row.iter().map(|&rtt| f64::from(rtt) / 2.0).collect()).collect();
    Some((regions, one_way_ms))
}

/// The 20 Google Cloud regions of `gcp2019`, in the order of the rows and columns of its table.
const GCP2019_REGIONS: &[&str] = &[
    "asia-east1",
    "asia-east2",
    "asia-northeast1",
    "asia-northeast2",
    "asia-south1",
    "asia-southeast1",
    "australia-southeast1",
    "europe-north1",
    "europe-west1",
    "europe-west2",
    "europe-west3",
    "europe-west4",
    "europe-west6",
    "northamerica-northeast1",
    "southamerica-east1",
    "us-central1",
    "us-east1",
    "us-east4",
    "us-west1",
    "us-west2",
];

/// Round-trip times in ms; row i, column j: from `GCP2019_REGIONS[i]` to `GCP2019_REGIONS[j]`.
#[rustfmt::skip]
const GCP2019_RTT_MS: &[&[u16]] = &[
    &[  0,  18,  33,  32, 105,  46, 138, 282, 254, 243, 258, 253, 261, 181, 290, 150, 184, 174, 118, 127], // asia-east1
    &[ 18,   0,  48,  51,  94,  35, 128, 294, 269, 260, 268, 264, 274, 194, 302, 164, 196, 189, 130, 141], // asia-east2
    &[ 33,  48,   0,   8, 127,  67, 114, 254, 230, 214, 224, 223, 235, 156, 259, 126, 155, 146,  88,  98], // asia-northeast1
    &[ 32,  51,   8,   0, 138,  77, 125, 259, 233, 223, 233, 230, 239, 159, 269, 130, 162, 154,  97, 106], // asia-northeast2
    &[105,  94, 127, 138,   0,  59, 151, 375, 354, 339, 352, 347, 358, 276, 381, 244, 278, 266, 212, 219], // asia-south1
    &[ 46,  35,  67,  77,  59,   0,  91, 316, 291, 280, 289, 285, 297, 217, 323, 187, 218, 211, 151, 160], // asia-southeast1
    &[138, 128, 114, 125, 151,  91,   0, 303, 276, 265, 276, 273, 282, 202, 302, 171, 197, 195, 161, 136], // australia-southeast1
    &[282, 294, 254, 259, 375, 316, 303,   0,  32,  39,  31,  30,  38, 114, 242, 132, 124, 113, 163, 167], // europe-north1
    &[254, 269, 230, 233, 354, 291, 276,  32,   0,  10,   8,   7,  14,  87, 210, 104,  93,  81, 140, 139], // europe-west1
    &[243, 260, 214, 223, 339, 280, 265,  39,  10,   0,  13,   9,  19,  76, 202,  93,  85,  75, 126, 128], // europe-west2
    &[258, 268, 224, 233, 352, 289, 276,  31,   8,  13,   0,   7,   7,  87, 214, 105,  98,  86, 136, 139], // europe-west3
    &[253, 264, 223, 230, 347, 285, 273,  30,   7,   9,   7,   0,  14,  84, 211, 101,  94,  84, 135, 136], // europe-west4
    &[261, 274, 235, 239, 358, 297, 282,  38,  14,  19,   7,  14,   0,  94, 221, 112, 105,  93, 148, 147], // europe-west6
    &[181, 194, 156, 159, 276, 217, 202, 114,  87,  76,  87,  84,  94,   0, 143,  31,  26,  14,  66,  66], // northamerica-northeast1
    &[290, 302, 259, 269, 381, 323, 302, 242, 210, 202, 214, 211, 221, 143,   0, 140, 117, 129, 171, 164], // southamerica-east1
    &[150, 164, 126, 130, 244, 187, 171, 132, 104,  93, 105, 101, 112,  31, 140,   0,  33,  25,  34,  35], // us-central1
    &[184, 196, 155, 162, 278, 218, 197, 124,  93,  85,  97,  94, 105,  26, 117,  33,   0,  12,  67,  59], // us-east1
    &[174, 189, 146, 154, 266, 211, 195, 113,  81,  75,  86,  84,  93,  14, 129,  25,  12,   0,  62,  60], // us-east4
    &[118, 130,  88,  97, 212, 151, 161, 163, 140, 126, 137, 135, 148,  66, 171,  34,  67,  61,   0,  25], // us-west1
    &[127, 141,  98, 106, 219, 160, 136, 167, 139, 128, 139, 136, 147,  66, 164,  35,  59,  60,  25,   0], // us-west2
];

/// The 19 AWS regions of `aws2020`, in the order of the rows and columns of its table.
const AWS2020_REGIONS: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-northeast-1",
    "ap-south-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ca-central-1",
    "eu-central-1",
    "eu-north-1",
    "eu-south-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "me-south-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
];

/// Round-trip times in ms; row i, column j: from `AWS2020_REGIONS[i]` to `AWS2020_REGIONS[j]`.
#[rustfmt::skip]
const AWS2020_RTT_MS: &[&[u16]] = &[
    &[  0, 382, 382, 291, 357, 412, 223, 199, 165, 190, 150, 142, 147, 279, 329, 215, 225, 275, 271], // af-south-1
    &[382,   0,  51,  98,  34, 127, 202, 202, 230, 193, 220, 210, 199, 126, 315, 213, 204, 154, 144], // ap-east-1
    &[382,  51,   0, 136,  77, 104, 154, 243, 265, 233, 204, 209, 243, 170, 267, 152, 155, 111, 100], // ap-northeast-1
    &[291,  98, 136,   0,  63, 143, 196, 111, 131, 101, 118, 113, 106,  34, 299, 181, 189, 231, 223], // ap-south-1
    &[357,  34,  77,  63,   0,  90, 221, 177, 195, 159, 186, 170, 170,  91, 338, 235, 220, 181, 162], // ap-southeast-1
    &[412, 127, 104, 143,  90,   0, 195, 281, 294, 288, 253, 273, 272, 177, 308, 198, 187, 137, 138], // ap-southeast-2
    &[223, 202, 154, 196, 221, 195,   0,  99, 114, 107,  72,  88,  92, 207, 123,  15,  24,  78,  65], // ca-central-1
    &[199, 202, 243, 111, 177, 281,  99,   0,  19,   9,  23,  14,   8, 122, 203,  85,  96, 145, 157], // eu-central-1
    &[165, 230, 265, 131, 195, 294, 114,  19,   0,  29,  35,  26,  28, 142, 217, 105, 113, 162, 157], // eu-north-1
    &[190, 193, 233, 101, 159, 288, 107,   9,  29,   0,  31,  23,  17, 129, 211,  94, 103, 153, 171], // eu-south-1
    &[150, 220, 204, 118, 186, 253,  72,  23,  35,  31,   0,  10,  16, 131, 183,  70,  84, 141, 127], // eu-west-1
    &[142, 210, 209, 113, 170, 273,  88,  14,  26,  23,  10,   0,   7, 122, 194,  76,  85, 136, 145], // eu-west-2
    &[147, 199, 243, 106, 170, 272,  92,   8,  28,  17,  16,   7,   0, 116, 195,  78,  88, 137, 150], // eu-west-3
    &[279, 126, 170,  34,  91, 177, 207, 122, 142, 129, 131, 122, 116,   0, 311, 193, 203, 252, 259], // me-south-1
    &[329, 315, 267, 299, 338, 308, 123, 203, 217, 211, 183, 194, 195, 311,   0, 113, 124, 190, 180], // sa-east-1
    &[215, 213, 152, 181, 235, 198,  15,  85, 105,  94,  70,  76,  78, 193, 113,   0,  10,  59,  72], // us-east-1
    &[225, 204, 155, 189, 220, 187,  24,  96, 113, 103,  84,  85,  88, 203, 124,  10,   0,  50,  48], // us-east-2
    &[275, 154, 111, 231, 181, 137,  78, 145, 162, 153, 141, 136, 137, 252, 190,  59,  50,   0,  21], // us-west-1
    &[271, 144, 100, 223, 162, 138,  65, 157, 157, 171, 127, 145, 150, 259, 180,  72,  48,  21,   0], // us-west-2
];
