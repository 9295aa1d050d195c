/* kernel_list.h — every __kernel of the kernels/ .cl files, by name.  adm_cl_open
 * creates each one once per device context (with its work-group limit) and
 * ops reach it by handle: adm_cl_k(cl, ADM_K_adm_silu).  No name lookups
 * on the hot path.
 *
 * A new kernel: add X(its_name) below (the name as in the .cl file); its
 * host wrapper then launches ADM_K_its_name through adm_launch (see
 * ops_internal.h), and make check-oclgrind runs it under Oclgrind once a
 * test calls it.
 */
#ifndef ADM_KERNEL_LIST_H
#define ADM_KERNEL_LIST_H

#define ADM_KERNEL_LIST(X)                                                              \
    /* elementwise.cl */                                                                \
    X(adm_silu) X(adm_add) X(adm_add_channel) X(adm_copy) X(adm_fill) X(adm_concat)     \
    X(adm_upsample_nearest2x) X(adm_avgpool2x2) X(adm_upsample_bilinear) X(adm_add_bias) \
    /* norm.cl */                                                                       \
    X(adm_group_norm)                                                                   \
    /* conv.cl */                                                                       \
    X(adm_conv2d_direct) X(adm_pad2d) X(adm_conv3x3_vec) X(adm_pad2d_rows)              \
    X(adm_conv3x3_rows) X(adm_conv3x3_rows1) X(adm_pack_panels) X(adm_gemm_panel)       \
    X(adm_linear) X(adm_im2col) X(adm_pad2d_shift3) X(adm_conv3x3_shift3)               \
    /* attention.cl */                                                                  \
    X(adm_softmax_cols) X(adm_attn_scale_qk)                                            \
    /* noise.cl */                                                                      \
    X(adm_noise)                                                                        \
    /* step.cl */                                                                       \
    X(adm_step_ddpm) X(adm_step_ddim)                                                   \
    /* eval.cl */                                                                       \
    X(adm_eval_preprocess) X(adm_eval_im2col) X(adm_eval_relu) X(adm_eval_pool)         \
    X(adm_eval_mean_hw)                                                                 \
    /* backward.cl */                                                                   \
    X(bwd_group_norm) X(bwd_silu) X(bwd_relu) X(bwd_conv_weight) X(bwd_dilate2x)        \
    X(bwd_avgpool2x2) X(bwd_linear) X(bwd_gemm) X(bwd_softmax_rows)                     \
    X(bwd_softmax_grad_rows) X(bwd_transpose) X(bwd_pool_tokens) X(bwd_spatial_mean)    \
    X(cls_pool_tokens) X(cls_spatial_mean) X(cls_linear_strided) X(cls_relu)

typedef enum {
#define ADM_KERNEL_ENUM(name) ADM_K_##name,
    ADM_KERNEL_LIST(ADM_KERNEL_ENUM)
#undef ADM_KERNEL_ENUM
    ADM_K_COUNT
} adm_kernel_id;

#endif
