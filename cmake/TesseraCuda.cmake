# The CUDA backend's toolchain: TESSERA_CUDA = AUTO | ON | OFF.
#   AUTO  builds backends/cuda when nvcc (check_language(CUDA)) and the CUDA toolkit's
#         cudart, cuBLAS, cuBLASLt and cuDNN are found (/usr/local/cuda on Debian with
#         NVIDIA's packages);
#   ON    makes their absence a configuration error;
#   OFF   never looks (the sanitizer job, CPU-only machines).
# Sets TESSERA_HAVE_CUDA (ON/OFF) for src/CMakeLists.txt, which then compiles
# src/backends/cuda/ and defines TESSERA_HAVE_CUDA for the code.
set(TESSERA_HAVE_CUDA OFF)
string(TOUPPER "${TESSERA_CUDA}" _tessera_cuda)
if(NOT _tessera_cuda MATCHES "^(AUTO|ON|OFF)$")
  message(FATAL_ERROR "TESSERA_CUDA must be AUTO, ON or OFF, not '${TESSERA_CUDA}'")
endif()

if(TESSERA_SANITIZE OR TESSERA_FUZZ)
  # The sanitizer flags are host compiler flags that nvcc does not take.
  if(_tessera_cuda STREQUAL "ON")
    message(FATAL_ERROR "TESSERA_CUDA=ON cannot be combined with TESSERA_SANITIZE or TESSERA_FUZZ")
  endif()
  set(_tessera_cuda OFF)
endif()
if(NOT _tessera_cuda STREQUAL "OFF")
  set(_tessera_cuda_missing "")
  if(NOT CMAKE_CUDA_COMPILER)
    # nvcc is often installed without being on PATH.
    if(NOT DEFINED ENV{CUDACXX} AND EXISTS /usr/local/cuda/bin/nvcc)
      set(CMAKE_CUDA_COMPILER /usr/local/cuda/bin/nvcc)
    endif()
  endif()
  include(CheckLanguage)
  check_language(CUDA)
  if(NOT CMAKE_CUDA_COMPILER)
    list(APPEND _tessera_cuda_missing "nvcc")
  else()
    if(NOT CMAKE_CUDA_ARCHITECTURES)
      # sm_90 machine code for H100/H200, and compute_75 PTX that the driver compiles once
      # for T4 (sm_75), A100 (sm_80) and anything newer: two device passes keep the build
      # short on small CI machines.
      set(CMAKE_CUDA_ARCHITECTURES "75-virtual;90-real")
    endif()
    if(NOT CMAKE_CUDA_HOST_COMPILER)
      set(CMAKE_CUDA_HOST_COMPILER ${CMAKE_CXX_COMPILER})
    endif()
    enable_language(CUDA)
    find_package(CUDAToolkit)
    if(NOT CUDAToolkit_FOUND)
      list(APPEND _tessera_cuda_missing "the CUDA toolkit (cudart)")
    else()
      foreach(_t CUDA::cudart CUDA::cublas CUDA::cublasLt)
        if(NOT TARGET ${_t})
          list(APPEND _tessera_cuda_missing "${_t}")
        endif()
      endforeach()
      find_library(TESSERA_CUDNN_LIBRARY cudnn HINTS ${CUDAToolkit_LIBRARY_DIR}
                   PATHS /usr/local/cuda/lib64 /usr/lib/x86_64-linux-gnu)
      find_path(TESSERA_CUDNN_INCLUDE_DIR cudnn.h HINTS ${CUDAToolkit_INCLUDE_DIRS}
                PATHS /usr/local/cuda/include /usr/include)
      if(NOT TESSERA_CUDNN_LIBRARY OR NOT TESSERA_CUDNN_INCLUDE_DIR)
        list(APPEND _tessera_cuda_missing "cuDNN (libcudnn, cudnn.h)")
      endif()
    endif()
  endif()
  if(_tessera_cuda_missing)
    if(_tessera_cuda STREQUAL "ON")
      message(FATAL_ERROR "TESSERA_CUDA=ON but not found: ${_tessera_cuda_missing}")
    endif()
    message(STATUS "CUDA backend: off (not found: ${_tessera_cuda_missing})")
  else()
    set(TESSERA_HAVE_CUDA ON)
    message(STATUS "CUDA backend: on (nvcc ${CMAKE_CUDA_COMPILER_VERSION}, "
                   "architectures ${CMAKE_CUDA_ARCHITECTURES}, cuDNN ${TESSERA_CUDNN_LIBRARY})")
  endif()
else()
  message(STATUS "CUDA backend: off (TESSERA_CUDA=OFF)")
endif()
